import { MULTUS_NETWORK_STATUS, type KubeObject } from '@stratum/kube';
import { ENVIRONMENT_LABELS } from './environment-manifests';
import {
  flatNetworkIps,
  LINK_ANNOTATIONS,
  linkDnsSuffix,
  LINK_LABELS,
  LINK_NAME_SEPARATOR,
  linkedServiceManifests,
  linkedServiceName,
  linkPolicy,
  type LinkedServiceInput,
} from './link-manifests';

const NS_B = 'retail-banking-core';
const NS_A = 'retail-banking-dmz';

function networkStatus(namespace: string, flatIps: string[]): string {
  return JSON.stringify([
    { name: 'cluster-network', interface: 'eth0', ips: ['10.244.1.7'], default: true },
    { name: `${namespace}/tenant-network`, interface: 'net1', ips: flatIps },
  ]);
}

interface PodOptions {
  labels?: Record<string, string>;
  ready?: boolean;
  ips?: string[];
  deleting?: boolean;
  phase?: string;
  namespace?: string;
  containerPorts?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

function pod(name: string, options: PodOptions = {}): KubeObject {
  const namespace = options.namespace ?? NS_B;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: options.labels ?? { app: 'ledger' },
      annotations:
        options.ips === undefined ? {} : { [MULTUS_NETWORK_STATUS]: networkStatus(namespace, options.ips) },
      ...(options.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'main', image: 'ledger:1', ports: options.containerPorts ?? [] }],
    },
    status: {
      phase: options.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

const ledger: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'ledger', namespace: NS_B },
  spec: {
    selector: { app: 'ledger' },
    clusterIP: '10.96.0.20',
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
  },
};

const input = (overrides: Partial<LinkedServiceInput> = {}): LinkedServiceInput => ({
  source: ledger,
  sourcePods: [],
  from: { namespace: NS_B, networkName: 'core', environmentId: 'ENV-Core-1' },
  into: { namespace: NS_A, environmentId: 'ENV-DMZ-1' },
  ...overrides,
});

interface Subset {
  addresses?: Array<{ ip: string }>;
  notReadyAddresses?: Array<{ ip: string }>;
  ports?: unknown[];
}
const subsetsOf = (endpoints: KubeObject) => endpoints.subsets as Subset[];

describe('environment links (R-NW-4 over the flat networks of R-NW-1)', () => {
  describe('linkedServiceName', () => {
    it('is <service>--<network>', () => {
      expect(LINK_NAME_SEPARATOR).toBe('--');
      expect(linkedServiceName('ledger', 'core')).toBe('ledger--core');
      expect(linkedServiceName('ledger', 'Core Banking')).toBe('ledger--core-banking');
      expect(linkDnsSuffix('Core Banking')).toBe('--core-banking');
      expect(linkedServiceName('ledger', 'Core Banking').endsWith(linkDnsSuffix('Core Banking'))).toBe(true);
    });

    it('keeps the network after the last separator even when the service name has one', () => {
      const name = linkedServiceName('a--b', 'x--y');
      expect(name).toBe('a--b--x-y');
      expect(name.slice(name.lastIndexOf(LINK_NAME_SEPARATOR) + 2)).toBe('x-y');
    });

    it('stays a DNS label of ≤ 63 characters, distinct for distinct inputs', () => {
      const long = linkedServiceName('s'.repeat(60), 'network-one');
      const other = linkedServiceName('s'.repeat(60), 'network-two');
      for (const name of [long, other]) {
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      }
      expect(long).not.toBe(other);
      expect(linkedServiceName('s'.repeat(60), 'network-one')).toBe(long);
    });
  });

  describe('flatNetworkIps', () => {
    it('reads the tenant-network entry of the network-status annotation', () => {
      expect(flatNetworkIps(pod('p', { ips: ['192.168.10.5'] }), NS_B)).toEqual(['192.168.10.5']);
    });

    it('takes every IP of the entry (dual stack), once each', () => {
      const p = pod('p', { ips: ['192.168.10.5', 'fd00::5', '192.168.10.5'] });
      expect(flatNetworkIps(p, NS_B)).toEqual(['192.168.10.5', 'fd00::5']);
    });

    it('ignores the cluster network and other namespaces’ attachments', () => {
      expect(flatNetworkIps(pod('p', { ips: ['192.168.10.5'] }), 'other')).toEqual([]);
    });

    it('accepts a bare attachment name for the pod’s own namespace only', () => {
      const bare = pod('p');
      bare.metadata!.annotations = {
        [MULTUS_NETWORK_STATUS]: JSON.stringify([{ name: 'tenant-network', ips: ['192.168.10.9'] }]),
      };
      expect(flatNetworkIps(bare, NS_B)).toEqual(['192.168.10.9']);
      expect(flatNetworkIps({ ...bare, metadata: { ...bare.metadata, namespace: 'x' } }, NS_B)).toEqual([]);
    });

    it('falls back to the legacy networks-status annotation', () => {
      const legacy = pod('p');
      legacy.metadata!.annotations = {
        'k8s.v1.cni.cncf.io/networks-status': networkStatus(NS_B, ['192.168.10.7']),
      };
      expect(flatNetworkIps(legacy, NS_B)).toEqual(['192.168.10.7']);
    });

    it.each([
      ['no metadata', {}],
      ['no annotations', { metadata: { name: 'p' } }],
      ['invalid JSON', { metadata: { annotations: { [MULTUS_NETWORK_STATUS]: '[{"name":' } } }],
      ['JSON that is no list', { metadata: { annotations: { [MULTUS_NETWORK_STATUS]: '{"name":"x"}' } } }],
      ['null', { metadata: { annotations: { [MULTUS_NETWORK_STATUS]: 'null' } } }],
      [
        'entries that are no objects, and ips that are no strings',
        {
          metadata: {
            annotations: {
              [MULTUS_NETWORK_STATUS]: JSON.stringify([
                null,
                7,
                { name: `${NS_B}/tenant-network`, ips: 'x' },
                { name: `${NS_B}/tenant-network`, ips: [1, '', null] },
              ]),
            },
          },
        },
      ],
      [
        'an entry without ips',
        { metadata: { annotations: { [MULTUS_NETWORK_STATUS]: `[{"name":"${NS_B}/tenant-network"}]` } } },
      ],
    ])('gives [] for %s', (_, object) => {
      expect(flatNetworkIps(object as KubeObject, NS_B)).toEqual([]);
    });
  });

  describe('linkedServiceManifests', () => {
    it('publishes S of B into A as a headless, selector-less S--B, labelled and annotated', () => {
      const [service, endpoints] = linkedServiceManifests(input());
      const metadata = {
        name: 'ledger--core',
        namespace: NS_A,
        labels: {
          [LINK_LABELS.linkedFromEnvironment]: 'env-core-1',
          [LINK_LABELS.linkedService]: 'ledger',
          [ENVIRONMENT_LABELS.managedBy]: 'stratum',
        },
        annotations: { [LINK_ANNOTATIONS.linkedTarget]: `ledger.${NS_B}` },
      };
      expect(service).toEqual({
        apiVersion: 'v1',
        kind: 'Service',
        metadata,
        spec: {
          type: 'ClusterIP',
          clusterIP: 'None',
          ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
        },
      });
      expect((service.spec as Record<string, unknown>).selector).toBeUndefined();
      expect(endpoints).toEqual({ apiVersion: 'v1', kind: 'Endpoints', metadata, subsets: [] });
    });

    it('lists the flat IPs of ready matching pods, sorted, and the not-ready ones apart', () => {
      const pods = [
        pod('ledger-3', { ips: ['192.168.20.30'] }),
        pod('ledger-1', { ips: ['192.168.20.9'] }),
        pod('ledger-2', { ips: ['192.168.20.10'], ready: false }),
        pod('other', { ips: ['192.168.20.40'], labels: { app: 'other' } }),
        pod('ledger-gone', { ips: ['192.168.20.50'], deleting: true }),
        pod('ledger-done', { ips: ['192.168.20.51'], phase: 'Succeeded' }),
        pod('ledger-no-flat-ip'),
        pod('ledger-elsewhere', { ips: ['192.168.20.60'], namespace: 'another-ns' }),
      ];
      const [, endpoints] = linkedServiceManifests(input({ sourcePods: pods }));
      expect(subsetsOf(endpoints)).toEqual([
        {
          addresses: [{ ip: '192.168.20.9' }, { ip: '192.168.20.30' }],
          notReadyAddresses: [{ ip: '192.168.20.10' }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      ]);
    });

    it('never lists cluster-network IPs', () => {
      const [, endpoints] = linkedServiceManifests(
        input({ sourcePods: [pod('ledger-1', { ips: ['192.168.20.9'] })] }),
      );
      expect(JSON.stringify(endpoints)).not.toContain('10.244.1.7');
    });

    it('puts not-ready pods in addresses when the source publishes not-ready addresses', () => {
      const source = { ...ledger, spec: { ...(ledger.spec as object), publishNotReadyAddresses: true } };
      const [service, endpoints] = linkedServiceManifests(
        input({ source, sourcePods: [pod('ledger-1', { ips: ['192.168.20.9'], ready: false })] }),
      );
      expect((service.spec as Record<string, unknown>).publishNotReadyAddresses).toBe(true);
      expect(subsetsOf(endpoints)).toEqual([
        { addresses: [{ ip: '192.168.20.9' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
      ]);
    });

    it('resolves target ports: numeric, named in the pod, or else the service port', () => {
      const source: KubeObject = {
        ...ledger,
        spec: {
          selector: { app: 'ledger' },
          ports: [
            { name: 'http', port: 80, targetPort: 'web' },
            { name: 'grpc', port: 9090, protocol: 'TCP', targetPort: 'grpc' },
            { name: 'metrics', port: 9100 },
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: '5353' },
          ],
        },
      };
      const pods = [
        pod('a', { ips: ['192.168.20.2'], containerPorts: [{ name: 'web', containerPort: 8080 }] }),
        pod('b', { ips: ['192.168.20.1'], containerPorts: [{ name: 'web', containerPort: 8080 }] }),
        // Another version serving on another port: its own subset.
        pod('c', { ips: ['192.168.20.3'], containerPorts: [{ name: 'web', containerPort: 8081 }] }),
        // A UDP port named like the target does not serve a TCP service port.
        pod('d', {
          ips: ['192.168.20.4'],
          containerPorts: [{ name: 'web', containerPort: 7000, protocol: 'UDP' }],
        }),
      ];
      const [service, endpoints] = linkedServiceManifests(input({ source, sourcePods: pods }));
      expect((service.spec as { ports: unknown[] }).ports).toEqual([
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' },
        { name: 'grpc', port: 9090, protocol: 'TCP', targetPort: 'grpc' },
        { name: 'metrics', port: 9100, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: '5353' },
      ]);
      const rest = [
        { name: 'grpc', port: 9090, protocol: 'TCP' },
        { name: 'metrics', port: 9100, protocol: 'TCP' },
        { name: 'dns', port: 5353, protocol: 'UDP' },
      ];
      expect(subsetsOf(endpoints)).toEqual([
        {
          addresses: [{ ip: '192.168.20.4' }],
          ports: [{ name: 'http', port: 80, protocol: 'TCP' }, ...rest],
        },
        {
          addresses: [{ ip: '192.168.20.1' }, { ip: '192.168.20.2' }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, ...rest],
        },
        {
          addresses: [{ ip: '192.168.20.3' }],
          ports: [{ name: 'http', port: 8081, protocol: 'TCP' }, ...rest],
        },
      ]);
    });

    it('sorts IPv4 before IPv6 and numerically within a family', () => {
      const pods = [
        pod('a', { ips: ['fd00::10', '192.168.20.100'] }),
        pod('b', { ips: ['fd00::9', '192.168.20.20'] }),
      ];
      const [, endpoints] = linkedServiceManifests(input({ sourcePods: pods }));
      expect(subsetsOf(endpoints)[0].addresses).toEqual([
        { ip: '192.168.20.20' },
        { ip: '192.168.20.100' },
        { ip: 'fd00::9' },
        { ip: 'fd00::10' },
      ]);
    });

    it('gives a selector-less source its Service and empty Endpoints', () => {
      const source = { ...ledger, spec: { ports: [{ port: 5432 }] } };
      const [service, endpoints] = linkedServiceManifests(
        input({ source, sourcePods: [pod('ledger-1', { ips: ['192.168.20.9'] })] }),
      );
      expect((service.spec as { ports: unknown[] }).ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
      expect(endpoints.subsets).toEqual([]);
    });

    it('is deterministic, whatever the order of the pods', () => {
      const pods = [
        pod('ledger-1', { ips: ['192.168.20.9'] }),
        pod('ledger-2', { ips: ['192.168.20.3'], ready: false }),
        pod('ledger-3', { ips: ['192.168.20.1'] }),
      ];
      const once = JSON.stringify(linkedServiceManifests(input({ sourcePods: pods })));
      expect(JSON.stringify(linkedServiceManifests(input({ sourcePods: [...pods].reverse() })))).toBe(once);
      expect(JSON.stringify(linkedServiceManifests(input({ sourcePods: pods })))).toBe(once);
    });

    it('refuses a source without a name', () => {
      expect(() => linkedServiceManifests(input({ source: { kind: 'Service' } }))).toThrow(TypeError);
    });
  });

  describe('linkPolicy', () => {
    it('lets in the linked networks’ subnets, sorted by network name', () => {
      const policy = linkPolicy({
        namespace: NS_A,
        linkedNetworks: [
          { name: 'core', cidr: '192.168.20.0/24' },
          { name: 'batch', cidr: 'fd00:20::/64' },
        ],
      });
      expect(policy).toEqual({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name: 'allow-linked-networks',
          namespace: NS_A,
          labels: { [ENVIRONMENT_LABELS.managedBy]: 'stratum' },
        },
        spec: {
          podSelector: {},
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ ipBlock: { cidr: 'fd00:20::/64' } }, { ipBlock: { cidr: '192.168.20.0/24' } }] },
          ],
        },
      });
    });

    it('exists with no ingress rule when nothing is linked', () => {
      expect(linkPolicy({ namespace: NS_A, linkedNetworks: [] }).spec).toEqual({
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [],
      });
    });

    it('is deterministic, whatever the order of the networks', () => {
      const networks = [
        { name: 'b', cidr: '192.168.2.0/24' },
        { name: 'a', cidr: '192.168.1.0/24' },
        { name: 'c', cidr: '192.168.3.0/24' },
      ];
      expect(JSON.stringify(linkPolicy({ namespace: NS_A, linkedNetworks: networks }))).toBe(
        JSON.stringify(linkPolicy({ namespace: NS_A, linkedNetworks: [...networks].reverse() })),
      );
    });
  });
});
