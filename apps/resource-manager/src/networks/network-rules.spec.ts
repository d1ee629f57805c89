import {
  checkAssignedNetworkChange,
  type NetworkRecord,
  parseSubnet,
  subnetsOverlap,
  validateNetwork,
} from './network-rules';

const net = (id: string, cidr: string, gateway: string, isolationDomain = 'core'): NetworkRecord => ({
  id,
  name: id,
  cidr,
  gateway,
  isolationDomain,
});

describe('network rules (R-NW-2)', () => {
  it('accepts well-formed IPv4 and IPv6 subnets and says what is wrong with the others', () => {
    expect(parseSubnet('10.20.0.0/24')).toMatchObject({ family: 4, prefix: 24 });
    expect(parseSubnet('fd00:10::/64')).toMatchObject({ family: 6, prefix: 64 });
    expect(parseSubnet('10.20.0.0')).toEqual({
      error: '"10.20.0.0" is not a subnet in CIDR notation (e.g. 10.20.0.0/24)',
    });
    expect(parseSubnet('10.20.0.300/24')).toEqual({ error: '"10.20.0.300" is not an IPv4 or IPv6 address' });
    expect(parseSubnet('10.20.0.5/24')).toEqual({
      error: '"10.20.0.5/24" has host bits set; did you mean 10.20.0.0/24?',
    });
    expect(parseSubnet('10.20.0.0/33')).toEqual({ error: 'prefix /33 is longer than 32 bits' });
    expect(parseSubnet('10.20.0.0/31')).toEqual({
      error: '/31 leaves no room for a gateway and pods; use /30 or shorter',
    });
  });

  it('finds overlaps, including a subnet inside another, and not across families', () => {
    const s = (t: string) => parseSubnet(t) as Exclude<ReturnType<typeof parseSubnet>, { error: string }>;
    expect(subnetsOverlap(s('10.0.0.0/16'), s('10.0.5.0/24'))).toBe(true);
    expect(subnetsOverlap(s('10.0.0.0/24'), s('10.0.1.0/24'))).toBe(false);
    expect(subnetsOverlap(s('fd00::/64'), s('fd00::/48'))).toBe(true);
    expect(subnetsOverlap(s('10.0.0.0/8'), s('fd00::/64'))).toBe(false);
  });

  it('refuses a gateway outside the subnet or on its network/broadcast address, naming the field', () => {
    expect(validateNetwork(net('n1', '10.20.0.0/24', '10.21.0.1'), [])).toEqual([
      { field: 'gateway', message: 'gateway 10.21.0.1 is outside the subnet 10.20.0.0/24' },
    ]);
    expect(validateNetwork(net('n1', '10.20.0.0/24', '10.20.0.255'), [])[0].message).toBe(
      "gateway 10.20.0.255 is the subnet's broadcast address",
    );
    expect(validateNetwork(net('n1', '10.20.0.0/24', 'gw'), [])[0]).toEqual({
      field: 'gateway',
      message: '"gw" is not an IP address',
    });
    expect(validateNetwork(net('n1', '10.20.0.0/24', '10.20.0.1'), [])).toEqual([]);
  });

  it('refuses an overlap within the same isolation domain only', () => {
    const existing = [
      net('dmz-1', '10.20.0.0/16', '10.20.0.1', 'dmz'),
      net('core-1', '10.30.0.0/24', '10.30.0.1', 'core'),
    ];
    expect(validateNetwork(net('new', '10.20.8.0/24', '10.20.8.1', 'dmz'), existing)).toEqual([
      {
        field: 'cidr',
        message: '10.20.8.0/24 overlaps 10.20.0.0/16 of network "dmz-1" in isolation domain "dmz"',
      },
    ]);
    expect(validateNetwork(net('new', '10.20.8.0/24', '10.20.8.1', 'core'), existing)).toEqual([]);
    // A network does not overlap itself when it is updated.
    expect(validateNetwork({ ...existing[0], name: 'renamed' }, existing)).toEqual([]);
  });

  it('keeps an assigned network’s subnet and refuses its deletion', () => {
    const existing = net('n1', '10.20.0.0/24', '10.20.0.1');
    expect(checkAssignedNetworkChange(existing, { kind: 'delete' }, ['retail'])).toEqual([
      { field: 'id', message: 'network "n1" is assigned to retail; unassign it before deleting it' },
    ]);
    expect(
      checkAssignedNetworkChange(existing, { kind: 'update', next: { ...existing, cidr: '10.20.0.0/23' } }, [
        'retail',
      ])[0].field,
    ).toBe('cidr');
    expect(
      checkAssignedNetworkChange(existing, { kind: 'update', next: { ...existing, name: 'renamed' } }, [
        'retail',
      ]),
    ).toEqual([]);
    expect(checkAssignedNetworkChange(existing, { kind: 'delete' }, [])).toEqual([]);
  });
});
