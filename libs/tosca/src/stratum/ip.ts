// IPv4 / IPv6 addresses and subnets for the fixed-IP rules (rules 4 and 10, R-NW-1).

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Subnet {
  family: 4 | 6;
  network: bigint;
  prefix: number;
  /** Last address of the subnet (the IPv4 broadcast). */
  last: bigint;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIp(text: string): IpAddress | undefined {
  if (V4.test(text)) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (!/^[0-9A-Fa-f:]+$/.test(text) || text.length < 2) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  if (all.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  if (halves.length === 1 ? all.length !== 8 : all.length > 7) return undefined;
  const filled = [...head, ...Array<string>(8 - all.length).fill('0'), ...tail];
  return { family: 6, value: filled.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** The canonical text of an address (IPv6 lower case, fully expanded groups compressed per RFC 5952). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 255n)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // the longest run of two or more zero groups becomes "::"
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

export function parseSubnet(text: string): Subnet | undefined {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const width = ip.family === 4 ? 32 : 128;
  const prefix = Number(bits);
  if (prefix > width) return undefined;
  const hostBits = BigInt(width - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, network, prefix, last: network | ((1n << hostBits) - 1n) };
}

/**
 * Whether `ip` can be given to a pod in `subnet`: inside it, and for IPv4 subnets of /30 and wider
 * neither the network nor the broadcast address.
 */
export function usableIn(ip: IpAddress, subnet: Subnet): 'ok' | 'outside' | 'network' | 'broadcast' {
  if (ip.family !== subnet.family || ip.value < subnet.network || ip.value > subnet.last) return 'outside';
  if (subnet.family === 4 && subnet.prefix <= 30) {
    if (ip.value === subnet.network) return 'network';
    if (ip.value === subnet.last) return 'broadcast';
  }
  return 'ok';
}
