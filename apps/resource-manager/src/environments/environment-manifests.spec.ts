import { kubernetesRoleRules } from '@stratum/authz';
import type { KubeObject } from '@stratum/kube';
import {
  dnsLabel,
  ENVIRONMENT_LABELS,
  type EnvironmentMember,
  environmentManifests,
  environmentNamespace,
  type EnvironmentManifestInput,
} from './environment-manifests';

const input = (
  network: Partial<EnvironmentManifestInput['network']> = {},
  members: EnvironmentMember[] = [],
): EnvironmentManifestInput => ({
  tenant: {
    id: 'T-0001',
    name: 'Retail Banking',
    developerGroups: ['stratum:t-0001:developer'],
    viewerGroups: [],
    quota: { cpu: '8', memory: '16Gi', pods: 50 },
    containerDefaults: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' },
  },
  network: {
    id: 'N-DMZ-1',
    name: 'dmz',
    cidr: '10.20.0.0/24',
    gateway: '10.20.0.1',
    vlan: 120,
    parentInterface: 'eth1',
    securityDomain: 'DMZ',
    isolationDomain: 'internet-facing',
    ...network,
  },
  members,
  registry: { server: 'registry.bank.test', username: 'pull', password: 'secret' },
});

describe('environment manifests (R-NW-1, R-NW-3)', () => {
  it('names the namespace after tenant and network, as a DNS label', () => {
    expect(environmentNamespace({ name: 'Retail Banking' }, { name: 'dmz' })).toBe('retail-banking-dmz');
    const long = dnsLabel('x'.repeat(80));
    expect(long).toHaveLength(63);
    expect(long).not.toBe(dnsLabel(`${'x'.repeat(80)}y`));
  });

  it('labels the namespace with tenant, network, security and isolation domain', () => {
    const [namespace] = environmentManifests(input());
    expect(namespace).toMatchObject({
      kind: 'Namespace',
      metadata: {
        name: 'retail-banking-dmz',
        labels: {
          [ENVIRONMENT_LABELS.tenant]: 't-0001',
          [ENVIRONMENT_LABELS.network]: 'n-dmz-1',
          [ENVIRONMENT_LABELS.securityDomain]: 'dmz',
          [ENVIRONMENT_LABELS.isolationDomain]: 'internet-facing',
        },
      },
    });
  });

  it('attaches pods to the flat network with macvlan on the VLAN interface and IPAM from the subnet', () => {
    const nad = environmentManifests(input()).find((o) => o.kind === 'NetworkAttachmentDefinition')!;
    const config = JSON.parse((nad.spec as { config: string }).config);
    expect(config).toMatchObject({ type: 'macvlan', master: 'eth1.120', mode: 'bridge' });
    expect(config.ipam).toMatchObject({
      type: 'whereabouts',
      range: '10.20.0.0/24',
      gateway: '10.20.0.1',
      exclude: ['10.20.0.1/32'],
    });
    const bridged = JSON.parse(
      (
        environmentManifests(input({ parentInterface: undefined })).find(
          (o) => o.kind === 'NetworkAttachmentDefinition',
        )!.spec as { config: string }
      ).config,
    );
    expect(bridged).toMatchObject({ type: 'bridge', bridge: 'br-vlan120' });
  });

  it('denies ingress by default and lets in the environment itself and the tenant’s other environments', () => {
    const policies = environmentManifests(input()).filter((o) => o.kind === 'NetworkPolicy');
    expect(policies.map((p) => p.metadata?.name)).toEqual([
      'default-deny-ingress',
      'allow-tenant-environments',
    ]);
    expect((policies[1].spec as { ingress: unknown[] }).ingress).toEqual([
      {
        from: [
          { podSelector: {} },
          { namespaceSelector: { matchLabels: { [ENVIRONMENT_LABELS.tenant]: 't-0001' } } },
        ],
      },
    ]);
  });

  it('binds only the groups it is given, and carries the pull secret, quota and container defaults', () => {
    const objects = environmentManifests(input());
    expect(objects.filter((o) => o.kind === 'RoleBinding').map((o) => o.metadata?.name)).toEqual([
      'tenant-developers',
      'stratum-tenant-admin',
      'stratum-advanced-member',
      'stratum-restricted-member',
      'stratum-read-only',
    ]);
    const secret = objects.find((o) => o.kind === 'Secret')!;
    const docker = JSON.parse(
      Buffer.from((secret.data as Record<string, string>)['.dockerconfigjson'], 'base64').toString(),
    );
    expect(docker.auths['registry.bank.test'].auth).toBe(Buffer.from('pull:secret').toString('base64'));
    expect(objects.find((o) => o.kind === 'ResourceQuota')!.spec).toEqual({
      hard: {
        'requests.cpu': '8',
        'requests.memory': '16Gi',
        'limits.cpu': '8',
        'limits.memory': '16Gi',
        pods: '50',
      },
    });
    expect(
      objects.every((o) => o.kind === 'Namespace' || o.metadata?.namespace === 'retail-banking-dmz'),
    ).toBe(true);
  });

  describe('platform roles mirrored from Keystone (R-AU-6)', () => {
    const members: EnvironmentMember[] = [
      { userId: 'u-3', userName: 'carol', roles: ['read-only'] },
      { userId: 'u-1', userName: 'alice', roles: ['tenant-admin', 'read-only'] },
      { userId: 'u-2', userName: 'bob', roles: ['restricted-member'] },
      // Two Keystone users of one name (different domains) are one Kubernetes user: bound once.
      { userId: 'u-4', userName: 'bob', roles: ['restricted-member'] },
    ];
    const rbac = (objects: KubeObject[]) =>
      objects.filter((o) => o.metadata?.labels?.[ENVIRONMENT_LABELS.platformRole] !== undefined);
    const subjects = (objects: KubeObject[], name: string) =>
      (
        objects.find((o) => o.kind === 'RoleBinding' && o.metadata?.name === name) as KubeObject & {
          subjects?: Array<{ name: string }>;
        }
      ).subjects?.map((s) => s.name) ?? [];

    it('has a Role and a RoleBinding per tenant role, with the rules derived from the permission table', () => {
      const objects = rbac(environmentManifests(input({}, members)));
      expect(objects.map((o) => `${o.kind} ${o.metadata?.name}`)).toEqual([
        'Role stratum-tenant-admin',
        'RoleBinding stratum-tenant-admin',
        'Role stratum-advanced-member',
        'RoleBinding stratum-advanced-member',
        'Role stratum-restricted-member',
        'RoleBinding stratum-restricted-member',
        'Role stratum-read-only',
        'RoleBinding stratum-read-only',
      ]);
      expect(objects[6]).toEqual({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: {
          name: 'stratum-read-only',
          namespace: 'retail-banking-dmz',
          labels: {
            [ENVIRONMENT_LABELS.managedBy]: 'stratum',
            [ENVIRONMENT_LABELS.platformRole]: 'read-only',
          },
        },
        rules: kubernetesRoleRules('read-only'),
      });
      expect(objects[7]).toEqual({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: {
          name: 'stratum-read-only',
          namespace: 'retail-banking-dmz',
          labels: {
            [ENVIRONMENT_LABELS.managedBy]: 'stratum',
            [ENVIRONMENT_LABELS.platformRole]: 'read-only',
          },
        },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'stratum-read-only' },
        subjects: [
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' },
        ],
      });
    });

    it('binds each role to the user names holding it, sorted and once each; a role nobody holds binds nobody', () => {
      const objects = environmentManifests(input({}, members));
      expect(subjects(objects, 'stratum-tenant-admin')).toEqual(['alice']);
      expect(subjects(objects, 'stratum-advanced-member')).toEqual([]);
      expect(subjects(objects, 'stratum-restricted-member')).toEqual(['bob']);
      expect(subjects(objects, 'stratum-read-only')).toEqual(['alice', 'carol']);
    });

    it('keeps the same objects whatever the members, and the same output for the same members in any order', () => {
      const names = (objects: KubeObject[]) => rbac(objects).map((o) => `${o.kind} ${o.metadata?.name}`);
      expect(names(environmentManifests(input()))).toEqual(names(environmentManifests(input({}, members))));
      expect(environmentManifests(input({}, [...members].reverse()))).toEqual(
        environmentManifests(input({}, members)),
      );
      const none = environmentManifests(input());
      for (const role of ['tenant-admin', 'advanced-member', 'restricted-member', 'read-only']) {
        expect(subjects(none, `stratum-${role}`)).toEqual([]);
      }
    });

    it('leaves the Keystone groups’ bindings and the pull secret as they were', () => {
      const objects = environmentManifests(input({}, members));
      expect(objects.find((o) => o.metadata?.name === 'tenant-developers')).toMatchObject({
        roleRef: { kind: 'ClusterRole', name: 'edit' },
        subjects: [{ kind: 'Group', name: 'stratum:t-0001:developer' }],
      });
      for (const role of rbac(objects).filter((o) => o.kind === 'Role')) {
        expect(JSON.stringify(role)).not.toContain('secrets');
      }
    });
  });
});
