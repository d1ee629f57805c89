/**
 * IPv4 address pools for the node simulator: a pod range per node, and one pool per tenant network
 * (NetworkAttachmentDefinition), so pods get fixed addresses from their tenant subnet (R-NW-1, seed 000).
 */

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${ip}`);
  }
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIp(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export interface Cidr {
  network: number;
  prefix: number;
  /** First and last usable host addresses (network and broadcast excluded). */
  first: number;
  last: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!Number.isInteger(prefix) || prefix < 8 || prefix > 30)
    throw new RangeError(`unsupported CIDR ${cidr}`);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const network = (ipToInt(ip) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network, prefix, first: network + 1, last: broadcast - 1 };
}

export function cidrContains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.first && ip <= cidr.last;
}

/** One pool: allocate the lowest free address, or a requested one; release on pod deletion. */
export class IpPool {
  private readonly used = new Map<number, string>();
  readonly cidr: Cidr;
  private readonly start: number;
  private readonly end: number;

  constructor(
    readonly range: string,
    options: { rangeStart?: string; rangeEnd?: string; exclude?: string[]; gateway?: string } = {},
  ) {
    this.cidr = parseCidr(range);
    this.start = options.rangeStart ? ipToInt(options.rangeStart) : this.cidr.first;
    this.end = options.rangeEnd ? ipToInt(options.rangeEnd) : this.cidr.last;
    if (options.gateway) this.used.set(ipToInt(options.gateway), 'gateway');
    for (const excluded of options.exclude ?? []) {
      const [ip, bits] = excluded.split('/');
      if (!bits || bits === '32') this.used.set(ipToInt(ip), 'excluded');
      else {
        const c = parseCidr(excluded);
        for (let a = c.network; a <= c.last + 1; a++) this.used.set(a, 'excluded');
      }
    }
  }

  /** Takes `requested` (a fixed IP) or the lowest free address; undefined with a reason when impossible. */
  allocate(owner: string, requested?: string): { ip?: string; error?: string } {
    for (const [ip, holder] of this.used) if (holder === owner) return { ip: intToIp(ip) };
    if (requested) {
      const value = ipToInt(requested);
      if (!cidrContains(this.cidr, value))
        return { error: `requested IP ${requested} is outside ${this.range}` };
      const holder = this.used.get(value);
      if (holder) return { error: `requested IP ${requested} is already in use by ${holder}` };
      this.used.set(value, owner);
      return { ip: requested };
    }
    for (let value = this.start; value <= this.end; value++) {
      if (!this.used.has(value)) {
        this.used.set(value, owner);
        return { ip: intToIp(value) };
      }
    }
    return { error: `no free address left in ${this.range}` };
  }

  /**
   * The first address of `candidates` (a pod's `stratum.io/fixed-ips`) that is free in this pool —
   * each replica of a Deployment gets its own (R-NW-1); the one `owner` holds already if any.
   */
  allocateFirstFree(owner: string, candidates: readonly string[]): { ip?: string; error?: string } {
    for (const [ip, holder] of this.used) if (holder === owner) return { ip: intToIp(ip) };
    const refused: string[] = [];
    for (const candidate of candidates) {
      let value: number;
      try {
        value = ipToInt(candidate);
      } catch {
        refused.push(`${candidate} is not an IPv4 address`);
        continue;
      }
      if (!cidrContains(this.cidr, value)) {
        refused.push(`${candidate} is outside ${this.range}`);
        continue;
      }
      const holder = this.used.get(value);
      if (holder) {
        refused.push(`${candidate} is in use by ${holder}`);
        continue;
      }
      this.used.set(value, owner);
      return { ip: candidate };
    }
    return { error: `no fixed IP is free: ${refused.join('; ') || 'the list is empty'}` };
  }

  /** Records an address found on an existing pod (simulator restart). */
  claim(owner: string, ip: string): void {
    this.used.set(ipToInt(ip), owner);
  }

  release(owner: string): void {
    for (const [ip, holder] of this.used) if (holder === owner) this.used.delete(ip);
  }
}

/** The IPAM part of a NetworkAttachmentDefinition's CNI config (whereabouts, static, host-local). */
export interface IpamConfig {
  range: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
  exclude?: string[];
}

export function ipamFromCniConfig(config: string): IpamConfig | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(config) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const plugins = Array.isArray(parsed.plugins)
    ? (parsed.plugins as Array<Record<string, unknown>>)
    : [parsed];
  for (const plugin of plugins) {
    const ipam = plugin.ipam as Record<string, unknown> | undefined;
    if (!ipam) continue;
    const ranges = ipam.ranges as Array<Array<Record<string, string>>> | undefined;
    const range =
      (ipam.range as string | undefined) ??
      (ipam.subnet as string | undefined) ??
      ranges?.[0]?.[0]?.subnet ??
      ((ipam.addresses as Array<{ address: string }> | undefined)?.[0]?.address
        ? networkOf((ipam.addresses as Array<{ address: string }>)[0].address)
        : undefined);
    if (!range) continue;
    return {
      range,
      rangeStart: (ipam.range_start as string | undefined) ?? ranges?.[0]?.[0]?.rangeStart,
      rangeEnd: (ipam.range_end as string | undefined) ?? ranges?.[0]?.[0]?.rangeEnd,
      gateway: (ipam.gateway as string | undefined) ?? ranges?.[0]?.[0]?.gateway,
      exclude: ipam.exclude as string[] | undefined,
    };
  }
  return undefined;
}

function networkOf(address: string): string {
  const c = parseCidr(address);
  return `${intToIp(c.network)}/${c.prefix}`;
}

/** One entry of the Multus `k8s.v1.cni.cncf.io/networks` pod annotation. */
export interface NetworkSelection {
  name: string;
  namespace?: string;
  /** Requested fixed addresses (CIDR suffix allowed). */
  ips?: string[];
  interface?: string;
}

/** Parses the annotation: a JSON list, or the short form "net1, other-ns/net2@eth1". */
export function parseNetworkSelections(annotation: string | undefined): NetworkSelection[] {
  if (!annotation?.trim()) return [];
  const text = annotation.trim();
  if (text.startsWith('[')) {
    const parsed = JSON.parse(text) as NetworkSelection[];
    return parsed.filter((s) => typeof s?.name === 'string');
  }
  return text.split(',').map((part) => {
    const [ref, iface] = part.trim().split('@');
    const [namespace, name] = ref.includes('/') ? ref.split('/') : [undefined, ref];
    return { name, namespace, interface: iface };
  });
}

/** The addresses of a `stratum.io/fixed-ips` annotation, in order. */
export function parseFixedIps(annotation: string | undefined): string[] {
  return (annotation ?? '')
    .split(',')
    .map((ip) => ip.trim())
    .filter((ip) => ip.length > 0);
}
