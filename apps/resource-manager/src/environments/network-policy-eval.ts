/**
 * Kubernetes NetworkPolicy ingress semantics, evaluated in memory: does this set of policies (as
 * read back from the API server) let this source reach this pod? The test bench has no CNI
 * dataplane, so tests check the policies Stratum writes (R-NW-1, R-NW-4) through this instead.
 *
 * What it models (networking.k8s.io/v1): a pod is isolated for ingress when a policy of its
 * namespace selects it and has `Ingress` among its policy types (a policy without `policyTypes`
 * always has Ingress, as the API server defaults it); an isolated pod admits a source when some
 * selecting policy has an ingress rule whose `from` is empty (every source) or holds a matching
 * peer. Peers: `podSelector` alone — pods of the policy's namespace; `namespaceSelector` alone — every
 * pod of matching namespaces; both — matching pods in matching namespaces; `ipBlock` — the source IP
 * in `cidr` and in none of `except` (IPv4 and IPv6).
 *
 * What it ignores: ports (a rule's `ports` are not checked — every flow is "any port"), egress, and
 * how a CNI maps IPs to pods (a pod source matches ipBlock peers by the `ip` given, and pod
 * selectors by its labels).
 */
import type { KubeObject } from '@stratum/kube';
import { parseAddress } from '../networks/network-rules';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface NetworkPolicySpec {
  podSelector?: LabelSelector;
  policyTypes?: string[];
  ingress?: Array<{ from?: NetworkPolicyPeer[]; ports?: unknown[] }>;
  egress?: unknown[];
}

export interface IngressTarget {
  namespace: string;
  podLabels: Record<string, string>;
}

/**
 * Where the traffic comes from. A pod gives its namespace, the namespace's labels and its own labels
 * (and optionally the IP it sends from, e.g. its flat-network IP); a host outside the cluster gives
 * only `ip` and then matches ipBlock peers and allow-all rules only.
 */
export interface IngressSource {
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
  ip?: string;
}

export interface IngressDecision {
  allowed: boolean;
  /** The policy that let the flow in; absent when no policy isolates the target. */
  by?: string;
}

/** Label selector semantics: every matchLabels pair and every expression must hold; `{}` matches all. */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!has || !values.includes(labels[requirement.key])) return false;
        break;
      case 'NotIn':
        // An absent label is "not in" any set.
        if (has && values.includes(labels[requirement.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // The API server rejects other operators; a selector it would not accept matches nothing.
        return false;
    }
  }
  return true;
}

/**
 * Whether `ip` lies in `cidr` (IPv4 or IPv6; host bits in the CIDR are ignored, as the API server
 * allows them). Different families, or text that is no address/CIDR, never match.
 */
export function cidrContains(cidr: string, ip: string): boolean {
  const [address, bits, extra] = cidr.split('/');
  if (extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const network = parseAddress(address);
  const candidate = parseAddress(ip);
  if (!network || !candidate || network.family !== candidate.family) return false;
  const width = network.family === 4 ? 32 : 128;
  const prefix = Number(bits);
  if (prefix > width) return false;
  const hostBits = BigInt(width - prefix);
  return network.value >> hostBits === candidate.value >> hostBits;
}

function peerMatches(peer: NetworkPolicyPeer, policyNamespace: string, source: IngressSource): boolean {
  if (peer.ipBlock) {
    if (!source.ip || !cidrContains(peer.ipBlock.cidr, source.ip)) return false;
    return !(peer.ipBlock.except ?? []).some((except) => cidrContains(except, source.ip!));
  }
  if (source.namespace === undefined) return false;
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  const inNamespace = peer.namespaceSelector
    ? labelSelectorMatches(peer.namespaceSelector, source.namespaceLabels ?? {})
    : source.namespace === policyNamespace;
  if (!inNamespace) return false;
  return peer.podSelector ? labelSelectorMatches(peer.podSelector, source.podLabels ?? {}) : true;
}

function appliesToIngress(spec: NetworkPolicySpec): boolean {
  // Without policyTypes the API server defaults to Ingress (plus Egress when egress rules exist).
  return !spec.policyTypes?.length || spec.policyTypes.includes('Ingress');
}

/**
 * Whether `source` may open a connection to a pod with `target`'s labels in `target.namespace`,
 * given the NetworkPolicies of that namespace (others in the list are ignored), and which policy
 * let it in. Policies are tried in the order given; `by` names the first that admits the flow.
 */
export function ingressAllowed(
  policies: KubeObject[],
  target: IngressTarget,
  source: IngressSource,
): IngressDecision {
  const selecting = policies.filter((policy) => {
    if (policy.kind !== undefined && policy.kind !== 'NetworkPolicy') return false;
    const namespace = policy.metadata?.namespace;
    if (namespace !== undefined && namespace !== target.namespace) return false;
    const spec = (policy.spec ?? {}) as NetworkPolicySpec;
    return appliesToIngress(spec) && labelSelectorMatches(spec.podSelector ?? {}, target.podLabels);
  });
  if (selecting.length === 0) return { allowed: true };
  for (const policy of selecting) {
    const rules = ((policy.spec ?? {}) as NetworkPolicySpec).ingress ?? [];
    const admits = rules.some(
      (rule) => !rule.from?.length || rule.from.some((peer) => peerMatches(peer, target.namespace, source)),
    );
    if (admits) return { allowed: true, by: policy.metadata?.name };
  }
  return { allowed: false };
}
