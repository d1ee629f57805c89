/**
 * Links between a tenant's environments (R-NW-4): the services of one environment resolve by DNS
 * from the tenant's other environments, and the traffic goes over the flat networks (R-NW-1), never
 * through cluster IPs, so the external security devices see it.
 *
 * DNS scheme. A Service `S` in the environment of network `B` is published into every linked
 * environment `A` of the same tenant as a headless Service named {@link linkedServiceName}`(S, B)`,
 * i.e. `S--B`: pods in A reach it as `S--B` (short name, A's search path) or
 * `S--B.<namespace of A>.svc.cluster.local`. The linked Service has no selector; its Endpoints hold
 * the flat-network IPs of S's pods, so the name resolves straight to those IPs (A records), and
 * SRV records carry the pods' target ports. Headless means no kube-proxy port mapping: clients
 * connect to the target port (the same as the service port for most services).
 *
 * `--` cannot occur in a DNS-label network name (`dnsLabel` collapses dash runs), so the network is
 * always what follows the last `--`, even when S itself contains one.
 *
 * Plain data in, server-side-apply-ready objects out; nothing here talks to a cluster.
 */
import { createHash } from 'node:crypto';
import { MULTUS_NETWORK_STATUS, type KubeObject } from '@stratum/kube';
import { parseAddress } from '../networks/network-rules';
import { dnsLabel, ENVIRONMENT_LABELS, TENANT_NETWORK_ATTACHMENT } from './environment-manifests';

export const LINK_NAME_SEPARATOR = '--';

export const LINK_LABELS = {
  /** The environment (id, as a DNS label) whose service this one mirrors. */
  linkedFromEnvironment: 'stratum.io/linked-from-environment',
  /** The mirrored service's name in its own environment. */
  linkedService: 'stratum.io/linked-service',
  managedBy: ENVIRONMENT_LABELS.managedBy,
} as const;

export const LINK_ANNOTATIONS = {
  /** `<service>.<namespace>` of the mirrored service. */
  linkedTarget: 'stratum.io/linked-target',
} as const;

/** The NetworkPolicy that lets the linked environments' flat subnets in. */
export const LINK_POLICY_NAME = 'allow-linked-networks';

/** The deprecated spelling older Multus versions write (alongside or instead of the new one). */
const LEGACY_MULTUS_NETWORK_STATUS = 'k8s.v1.cni.cncf.io/networks-status';

/**
 * `--<network>`: what a linked name ends with (as events announce it), the network as a DNS label.
 * Only names cut for length (see {@link linkedServiceName}) lack it.
 */
export function linkDnsSuffix(networkName: string): string {
  return `${LINK_NAME_SEPARATOR}${dnsLabel(networkName)}`;
}

/**
 * `<service>--<network>` (see the module comment), a DNS label (≤ 63 characters; a longer name is
 * cut and keeps a hash of the whole so names stay unique). The service name is already a DNS label
 * (a Service's name); the network name goes through `dnsLabel`.
 */
export function linkedServiceName(serviceName: string, networkName: string): string {
  const name = `${serviceName.toLowerCase()}${linkDnsSuffix(networkName)}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256')
    .update(`${serviceName}${LINK_NAME_SEPARATOR}${networkName}`)
    .digest('hex')
    .slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

interface NetworkStatusEntry {
  name?: unknown;
  ips?: unknown;
}

function parseStatus(text: string | undefined): NetworkStatusEntry[] | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed)
      ? parsed.filter((e): e is NetworkStatusEntry => typeof e === 'object' && e !== null)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pod's IPs on its environment's flat network: the `<attachmentNamespace>/tenant-network` entry
 * of Multus' network-status annotation. No annotation, bad JSON, no such entry → `[]`.
 */
export function flatNetworkIps(pod: KubeObject, attachmentNamespace: string): string[] {
  const annotations = pod.metadata?.annotations ?? {};
  const entries =
    parseStatus(annotations[MULTUS_NETWORK_STATUS]) ??
    parseStatus(annotations[LEGACY_MULTUS_NETWORK_STATUS]) ??
    [];
  const qualified = `${attachmentNamespace}/${TENANT_NETWORK_ATTACHMENT}`;
  // Multus qualifies the name with the attachment's namespace; a bare name means the pod's own.
  const bareMatches = pod.metadata?.namespace === attachmentNamespace;
  const ips = new Set<string>();
  for (const entry of entries) {
    if (entry.name !== qualified && !(bareMatches && entry.name === TENANT_NETWORK_ATTACHMENT)) continue;
    if (!Array.isArray(entry.ips)) continue;
    for (const ip of entry.ips) if (typeof ip === 'string' && ip) ips.add(ip);
  }
  return [...ips];
}

export interface LinkedServiceInput {
  /** The Service as read from environment B. */
  source: KubeObject;
  /** B's pods (at least those the service selects), as read from the cluster. */
  sourcePods: KubeObject[];
  from: { namespace: string; networkName: string; environmentId: string };
  into: { namespace: string; environmentId: string };
}

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
}

interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
}

interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
}

function servicePorts(service: KubeObject): ServicePort[] {
  const spec = (service.spec ?? {}) as { ports?: ServicePort[] };
  return (spec.ports ?? []).filter((p) => typeof p?.port === 'number');
}

/** The port a pod serves a service port on, as the endpoints controller finds it. */
function podPort(pod: KubeObject, port: ServicePort): number {
  const target = port.targetPort;
  if (target === undefined || target === '') return port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  const containers =
    ((pod.spec ?? {}) as { containers?: Array<{ ports?: ContainerPort[] }> }).containers ?? [];
  for (const container of containers) {
    for (const candidate of container.ports ?? []) {
      if (
        candidate.name === target &&
        (candidate.protocol ?? 'TCP') === protocol &&
        candidate.containerPort
      ) {
        return candidate.containerPort;
      }
    }
  }
  return port.port;
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status ?? {}) as { conditions?: Array<{ type?: string; status?: string }> })
    .conditions;
  return (conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function isFinished(pod: KubeObject): boolean {
  const phase = ((pod.status ?? {}) as { phase?: string }).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** IPv4 before IPv6, numerically; anything unparsable last, as text. */
function compareIps(a: string, b: string): number {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (pa && pb) {
    if (pa.family !== pb.family) return pa.family - pb.family;
    return pa.value < pb.value ? -1 : pa.value > pb.value ? 1 : 0;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Service `S` of environment B published into environment A (R-NW-4): a headless Service
 * `S--B` without selector, and its Endpoints listing the flat-network IPs of S's pods (R-NW-1).
 * Pods count as S's when they match its selector; ready ones go to `addresses`, others to
 * `notReadyAddresses` (all to `addresses` when S publishes not-ready addresses); terminating and
 * finished pods, and pods without a flat IP, are left out. Pods whose named target ports resolve
 * differently land in different subsets, as the endpoints controller does it. A source without a
 * selector still gets its Service, with empty Endpoints. Re-run on every change of S or its pods.
 */
export function linkedServiceManifests({
  source,
  sourcePods,
  from,
  into,
}: LinkedServiceInput): [KubeObject, KubeObject] {
  const sourceName = source.metadata?.name;
  if (!sourceName) throw new TypeError('the source Service has no name');
  const name = linkedServiceName(sourceName, from.networkName);
  const spec = (source.spec ?? {}) as {
    selector?: Record<string, string>;
    publishNotReadyAddresses?: boolean;
  };
  const ports = servicePorts(source);
  const metadata = () => ({
    name,
    namespace: into.namespace,
    labels: {
      [LINK_LABELS.linkedFromEnvironment]: dnsLabel(from.environmentId),
      [LINK_LABELS.linkedService]: sourceName,
      [LINK_LABELS.managedBy]: 'stratum',
    },
    annotations: { [LINK_ANNOTATIONS.linkedTarget]: `${sourceName}.${from.namespace}` },
  });

  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(),
    spec: {
      type: 'ClusterIP',
      // Headless: the name resolves to the flat IPs themselves, no cluster IP in between (R-NW-1).
      clusterIP: 'None',
      ...(spec.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
      ports: ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
      })),
    },
  };

  const selector = spec.selector ?? {};
  const subsets = new Map<string, { ports: EndpointPort[]; ready: Set<string>; notReady: Set<string> }>();
  if (Object.keys(selector).length > 0) {
    for (const pod of sourcePods) {
      const podNamespace = pod.metadata?.namespace;
      if (podNamespace !== undefined && podNamespace !== from.namespace) continue;
      const labels = pod.metadata?.labels ?? {};
      if (!Object.entries(selector).every(([key, value]) => labels[key] === value)) continue;
      if (pod.metadata?.deletionTimestamp || isFinished(pod)) continue;
      const ips = flatNetworkIps(pod, from.namespace);
      if (ips.length === 0) continue;
      const endpointPorts = ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: podPort(pod, p),
        protocol: p.protocol ?? 'TCP',
      }));
      const key = JSON.stringify(endpointPorts);
      let subset = subsets.get(key);
      if (!subset)
        subsets.set(key, (subset = { ports: endpointPorts, ready: new Set(), notReady: new Set() }));
      const bucket = isReady(pod) || spec.publishNotReadyAddresses ? subset.ready : subset.notReady;
      for (const ip of ips) bucket.add(ip);
    }
  }

  const endpoints: KubeObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: metadata(),
    subsets: [...subsets.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, subset]) => ({
        ...(subset.ready.size ? { addresses: [...subset.ready].sort(compareIps).map((ip) => ({ ip })) } : {}),
        ...(subset.notReady.size
          ? { notReadyAddresses: [...subset.notReady].sort(compareIps).map((ip) => ({ ip })) }
          : {}),
        ...(subset.ports.length ? { ports: subset.ports } : {}),
      })),
  };
  return [service, endpoints];
}

export interface LinkPolicyInput {
  /** The environment's namespace. */
  namespace: string;
  /** The flat networks of the tenant's other environments linked with this one. */
  linkedNetworks: Array<{ name: string; cidr: string }>;
}

/**
 * `allow-linked-networks`: lets in traffic from the flat subnets of the tenant's own linked
 * environments (R-NW-4). Everything else on the flat networks stays denied by the environment's
 * `default-deny-ingress`; traffic between networks is further controlled by the external firewalls
 * (R-NW-1), which this does not replace. Without linked networks the policy still exists, with no
 * ingress rule (it denies nothing the default deny does not), so later links are a server-side
 * apply of the same object. Networks are sorted by name, so the same links give the same object.
 */
export function linkPolicy({ namespace, linkedNetworks }: LinkPolicyInput): KubeObject {
  const networks = [...linkedNetworks].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0,
  );
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: LINK_POLICY_NAME,
      namespace,
      labels: { [ENVIRONMENT_LABELS.managedBy]: 'stratum' },
    },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: networks.length ? [{ from: networks.map((n) => ({ ipBlock: { cidr: n.cidr } })) }] : [],
    },
  };
}
