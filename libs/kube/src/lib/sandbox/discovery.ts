import type { ResourceRegistry } from './resource-registry';
import { BUILT_IN_GROUP_ORDER, type ResourceType } from './resource-types';

/** Discovery documents in the shapes kube-apiserver 1.20 serves (client-node resolves CRDs with them). */

export const SANDBOX_VERSION = {
  major: '1',
  minor: '20',
  gitVersion: 'v1.20.2-sandbox',
  gitCommit: 'sandbox',
  gitTreeState: 'clean',
  buildDate: '2021-01-13T13:20:00Z',
  goVersion: 'go1.19.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(name: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

function orderedGroups(registry: ResourceRegistry): Array<[string, string[]]> {
  const groups = [...registry.groupVersions()].filter(([group]) => group !== '');
  const rank = (group: string) => {
    const at = BUILT_IN_GROUP_ORDER.indexOf(group);
    return at < 0 ? BUILT_IN_GROUP_ORDER.length : at;
  };
  return groups.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function apiGroupList(registry: ResourceRegistry) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: orderedGroups(registry).map(([name, versions]) => groupEntry(name, versions)),
  };
}

export function apiGroup(registry: ResourceRegistry, group: string) {
  const versions = registry.groupVersions().get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, versions) };
}

/** `/api/v1` (no apiVersion field, as the real one) or `/apis/<group>/<version>`. */
export function apiResourceList(registry: ResourceRegistry, group: string, version: string) {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: object[] = [];
  for (const type of types.sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0))) {
    resources.push(mainEntry(type));
    const subresources: object[] = [];
    for (const extra of type.discoveryOnly) {
      subresources.push({
        name: `${type.plural}/${extra.name}`,
        singularName: '',
        namespaced: type.namespaced,
        ...(extra.group !== undefined ? { group: extra.group, version: extra.version } : {}),
        kind: extra.kind,
        verbs: extra.verbs,
      });
    }
    if (type.scaleSubresource) {
      subresources.push({
        name: `${type.plural}/scale`,
        singularName: '',
        namespaced: type.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      });
    }
    if (type.statusSubresource) {
      subresources.push({
        name: `${type.plural}/status`,
        singularName: '',
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
    resources.push(
      ...subresources.sort((a, b) => ((a as { name: string }).name < (b as { name: string }).name ? -1 : 1)),
    );
  }
  const groupVersion = group ? `${group}/${version}` : version;
  return group
    ? { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources }
    : { kind: 'APIResourceList', groupVersion, resources };
}

function mainEntry(type: ResourceType) {
  const entry: Record<string, unknown> = {
    name: type.plural,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.verbs,
  };
  if (type.shortNames.length > 0) entry['shortNames'] = type.shortNames;
  if (type.categories.length > 0) entry['categories'] = type.categories;
  return entry;
}
