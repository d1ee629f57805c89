import {
  dnsLabel,
  ENVIRONMENT_LABELS,
  environmentManifests,
  environmentNamespace,
  type EnvironmentManifestInput,
} from './environment-manifests';

const input = (network: Partial<EnvironmentManifestInput['network']> = {}): EnvironmentManifestInput => ({
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
});
