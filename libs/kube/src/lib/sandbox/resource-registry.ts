import { builtInSchema, schemaFromOpenApi, type SchemaNode } from './field-schema';
import { getArray, getObject, getString, isObject } from './json';
import type { StoredObject } from './object-meta';
import { builtInTypes, CUSTOM_RESOURCE_VERBS, splitApiVersion, type ResourceType } from './resource-types';

/**
 * Every resource the sandbox serves: the built-in kinds plus one entry per served version of each
 * established CustomResourceDefinition. Several versions of one CRD share a storage identity.
 */
export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();
  private readonly byKind = new Map<string, ResourceType>();
  private readonly schemas = new Map<string, SchemaNode>();
  private readonly byIdMap = new Map<string, ResourceType>();
  private readonly customByCrd = new Map<string, ResourceType[]>();

  constructor() {
    for (const type of builtInTypes()) this.add(type, builtInSchema(type.id));
  }

  /** `group`, `version`, `plural` from a URL; '' group is core. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  findKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }

  /** Any served version of a storage identity (`apps/deployments`). */
  byId(typeId: string): ResourceType | undefined {
    return this.byIdMap.get(typeId);
  }

  schemaOf(type: ResourceType): SchemaNode {
    return this.schemas.get(`${type.group}/${type.version}/${type.plural}`) ?? builtInSchema(type.id);
  }

  all(): ResourceType[] {
    return [...this.byPath.values()];
  }

  /** Group → served versions, in registration order. */
  groupVersions(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const type of this.byPath.values()) {
      const versions = out.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      out.set(type.group, versions);
    }
    return out;
  }

  /** Serves (or re-serves, after a spec change) the versions of a CRD. */
  registerCustom(crd: StoredObject): ResourceType[] {
    this.unregisterCustom(crd.metadata.name ?? '');
    const types = customTypes(crd);
    for (const { type, schema } of types) this.add(type, schema);
    this.customByCrd.set(
      crd.metadata.name ?? '',
      types.map((t) => t.type),
    );
    return types.map((t) => t.type);
  }

  unregisterCustom(crdName: string): void {
    for (const type of this.customByCrd.get(crdName) ?? []) {
      this.byPath.delete(`${type.group}/${type.version}/${type.plural}`);
      this.byKind.delete(`${type.apiVersion}/${type.kind}`);
      this.schemas.delete(`${type.group}/${type.version}/${type.plural}`);
      this.byIdMap.delete(type.id);
    }
    this.customByCrd.delete(crdName);
  }

  private add(type: ResourceType, schema: SchemaNode): void {
    this.byPath.set(`${type.group}/${type.version}/${type.plural}`, type);
    this.byKind.set(`${type.apiVersion}/${type.kind}`, type);
    this.schemas.set(`${type.group}/${type.version}/${type.plural}`, schema);
    if (!this.byIdMap.has(type.id)) this.byIdMap.set(type.id, type);
  }
}

function customTypes(crd: StoredObject): Array<{ type: ResourceType; schema: SchemaNode }> {
  const spec = getObject(crd, ['spec']) ?? {};
  const group = getString(spec, ['group']) ?? '';
  const plural = getString(spec, ['names', 'plural']) ?? '';
  const kind = getString(spec, ['names', 'kind']) ?? '';
  const namespaced = getString(spec, ['scope']) !== 'Cluster';
  const out: Array<{ type: ResourceType; schema: SchemaNode }> = [];
  for (const version of getArray(spec, ['versions']) ?? []) {
    if (!isObject(version) || version['served'] === false || typeof version['name'] !== 'string') continue;
    const openApi = getObject(version, ['schema', 'openAPIV3Schema']);
    const subresources = getObject(version, ['subresources']);
    const apiVersion = `${group}/${version['name']}`;
    const { version: v } = splitApiVersion(apiVersion);
    out.push({
      type: {
        id: `${group}/${plural}`,
        group,
        version: v,
        apiVersion,
        kind,
        listKind: getString(spec, ['names', 'listKind']) ?? `${kind}List`,
        plural,
        singular: getString(spec, ['names', 'singular']) ?? kind.toLowerCase(),
        namespaced,
        shortNames: (getArray(spec, ['names', 'shortNames']) ?? []).filter(
          (s): s is string => typeof s === 'string',
        ),
        categories: (getArray(spec, ['names', 'categories']) ?? []).filter(
          (s): s is string => typeof s === 'string',
        ),
        verbs: CUSTOM_RESOURCE_VERBS,
        statusSubresource: isObject(subresources?.['status']),
        scaleSubresource: false,
        discoveryOnly: [],
        generation: 'allButMetadata',
        allowCreateOnUpdate: false,
        deleteReturnsObject: false,
        names: 'subdomain',
        custom: { crdName: crd.metadata.name ?? '', schema: openApi },
      },
      schema: schemaFromOpenApi(openApi),
    });
  }
  return out;
}
