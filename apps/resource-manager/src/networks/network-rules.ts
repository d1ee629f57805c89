/**
 * The rules a network record must keep (R-NW-2, issue #4): a well-formed subnet, a gateway inside it,
 * no overlap with another network of the same isolation domain, and no subnet change or deletion
 * while a tenant has the network. Pure functions: each problem names the field it is about, so the
 * API can answer 4xx with it and change nothing.
 */

export interface Subnet {
  family: 4 | 6;
  /** Network address as an integer, and the prefix length. */
  network: bigint;
  prefix: number;
  text: string;
}

export interface NetworkProblem {
  field: 'cidr' | 'gateway' | 'isolationDomain' | 'id';
  message: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  isolationDomain: string;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || (text.match(/::/g) ?? []).length > 1) return undefined;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if ((tail === undefined && missing !== 0) || (tail !== undefined && missing < 1)) return undefined;
  const groups = [...headGroups, ...Array(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(`0x${group}`);
  }
  return value;
}

export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

/** Parses `a.b.c.d/n` or an IPv6 prefix; the address must be the network address itself. */
export function parseSubnet(text: string): Subnet | { error: string } {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) {
    return { error: `"${text}" is not a subnet in CIDR notation (e.g. 10.20.0.0/24)` };
  }
  const parsed = parseAddress(address);
  if (!parsed) return { error: `"${address}" is not an IPv4 or IPv6 address` };
  const width = parsed.family === 4 ? 32 : 128;
  const prefix = Number(bits);
  if (prefix > width) return { error: `prefix /${prefix} is longer than ${width} bits` };
  // A flat network needs room for a gateway and pods: at least 4 addresses (IPv4 /30).
  if (prefix > width - 2)
    return { error: `/${prefix} leaves no room for a gateway and pods; use /${width - 2} or shorter` };
  const hostBits = BigInt(width - prefix);
  const network = (parsed.value >> hostBits) << hostBits;
  if (network !== parsed.value) {
    return {
      error: `"${text}" has host bits set; did you mean ${formatAddress(parsed.family, network)}/${prefix}?`,
    };
  }
  return { family: parsed.family, network, prefix, text };
}

function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) =>
    ((value >> BigInt(112 - i * 16)) & 0xffffn).toString(16),
  );
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function size(subnet: Subnet): bigint {
  return 1n << BigInt((subnet.family === 4 ? 32 : 128) - subnet.prefix);
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  if (a.family !== b.family) return false;
  return a.network < b.network + size(b) && b.network < a.network + size(a);
}

/** Problems with a new or changed network, given the other recorded networks. */
export function validateNetwork(candidate: NetworkRecord, others: NetworkRecord[]): NetworkProblem[] {
  const problems: NetworkProblem[] = [];
  const subnet = parseSubnet(candidate.cidr);
  if ('error' in subnet) return [{ field: 'cidr', message: subnet.error }];
  const gateway = parseAddress(candidate.gateway);
  if (!gateway) {
    problems.push({ field: 'gateway', message: `"${candidate.gateway}" is not an IP address` });
  } else {
    const inside =
      gateway.family === subnet.family &&
      gateway.value >= subnet.network &&
      gateway.value < subnet.network + size(subnet);
    const last = subnet.network + size(subnet) - 1n;
    if (!inside) {
      problems.push({
        field: 'gateway',
        message: `gateway ${candidate.gateway} is outside the subnet ${candidate.cidr}`,
      });
    } else if (gateway.value === subnet.network || (subnet.family === 4 && gateway.value === last)) {
      problems.push({
        field: 'gateway',
        message: `gateway ${candidate.gateway} is the subnet's ${gateway.value === subnet.network ? 'network' : 'broadcast'} address`,
      });
    }
  }
  for (const other of others) {
    if (other.id === candidate.id || other.isolationDomain !== candidate.isolationDomain) continue;
    const otherSubnet = parseSubnet(other.cidr);
    if ('error' in otherSubnet) continue;
    if (subnetsOverlap(subnet, otherSubnet)) {
      problems.push({
        field: 'cidr',
        message: `${candidate.cidr} overlaps ${other.cidr} of network "${other.name}" in isolation domain "${candidate.isolationDomain}"`,
      });
    }
  }
  return problems;
}

/** A network a tenant has keeps its subnet, and cannot be deleted (unassign it first). */
export function checkAssignedNetworkChange(
  existing: NetworkRecord,
  change: { kind: 'update'; next: NetworkRecord } | { kind: 'delete' },
  assignedTo: string[],
): NetworkProblem[] {
  if (assignedTo.length === 0) return [];
  const tenants = assignedTo.join(', ');
  if (change.kind === 'delete') {
    return [
      {
        field: 'id',
        message: `network "${existing.name}" is assigned to ${tenants}; unassign it before deleting it`,
      },
    ];
  }
  const problems: NetworkProblem[] = [];
  if (change.next.cidr !== existing.cidr) {
    problems.push({
      field: 'cidr',
      message: `the subnet of network "${existing.name}" cannot change while it is assigned to ${tenants}`,
    });
  }
  if (change.next.gateway !== existing.gateway) {
    problems.push({
      field: 'gateway',
      message: `the gateway of network "${existing.name}" cannot change while it is assigned to ${tenants}`,
    });
  }
  if (change.next.isolationDomain !== existing.isolationDomain) {
    problems.push({
      field: 'isolationDomain',
      message: `the isolation domain of network "${existing.name}" cannot change while it is assigned to ${tenants}`,
    });
  }
  return problems;
}
