import { IpPool, ipamFromCniConfig, parseFixedIps, parseNetworkSelections } from './ip-pools';

describe('tenant network address pools (R-NW-1 fixed pod IPs)', () => {
  it('hands out the lowest free address, skipping the gateway, and honours a requested one', () => {
    const pool = new IpPool('10.20.0.0/24', { gateway: '10.20.0.1' });
    expect(pool.allocate('a').ip).toBe('10.20.0.2');
    expect(pool.allocate('b', '10.20.0.100').ip).toBe('10.20.0.100');
    expect(pool.allocate('c', '10.20.0.100').error).toBe('requested IP 10.20.0.100 is already in use by b');
    expect(pool.allocate('d', '10.30.0.5').error).toBe('requested IP 10.30.0.5 is outside 10.20.0.0/24');
    expect(pool.allocate('a').ip).toBe('10.20.0.2'); // same owner, same address
    pool.release('b');
    expect(pool.allocate('e', '10.20.0.100').ip).toBe('10.20.0.100');
  });

  it('gives each replica the first free address of its stratum.io/fixed-ips list', () => {
    const pool = new IpPool('10.20.0.0/24', { gateway: '10.20.0.1' });
    const list = parseFixedIps('10.20.0.1, 10.20.0.5,10.30.0.9,10.20.0.6');
    expect(list).toEqual(['10.20.0.1', '10.20.0.5', '10.30.0.9', '10.20.0.6']);
    expect(pool.allocate('squatter', '10.20.0.5').ip).toBe('10.20.0.5');
    expect(pool.allocateFirstFree('web-1', list).ip).toBe('10.20.0.6');
    expect(pool.allocateFirstFree('web-1', list).ip).toBe('10.20.0.6'); // same owner, same address
    expect(pool.allocateFirstFree('web-2', list).error).toBe(
      'no fixed IP is free: 10.20.0.1 is in use by gateway; 10.20.0.5 is in use by squatter; ' +
        '10.30.0.9 is outside 10.20.0.0/24; 10.20.0.6 is in use by web-1',
    );
    pool.release('squatter');
    expect(pool.allocateFirstFree('web-2', list).ip).toBe('10.20.0.5');
    expect(parseFixedIps(undefined)).toEqual([]);
  });

  it('runs out with a reason, honours range_start/end and exclusions', () => {
    const pool = new IpPool('10.0.0.0/29', {
      rangeStart: '10.0.0.2',
      rangeEnd: '10.0.0.4',
      exclude: ['10.0.0.3/32'],
    });
    expect([pool.allocate('a').ip, pool.allocate('b').ip]).toEqual(['10.0.0.2', '10.0.0.4']);
    expect(pool.allocate('c').error).toBe('no free address left in 10.0.0.0/29');
  });

  it('reads the IPAM of whereabouts, host-local ranges and static configs', () => {
    expect(
      ipamFromCniConfig(
        JSON.stringify({
          type: 'macvlan',
          ipam: { type: 'whereabouts', range: '10.1.0.0/24', gateway: '10.1.0.1' },
        }),
      ),
    ).toEqual(expect.objectContaining({ range: '10.1.0.0/24', gateway: '10.1.0.1' }));
    expect(
      ipamFromCniConfig(
        JSON.stringify({
          plugins: [
            {
              type: 'bridge',
              ipam: { type: 'host-local', ranges: [[{ subnet: '10.2.0.0/24', rangeStart: '10.2.0.10' }]] },
            },
          ],
        }),
      ),
    ).toEqual(expect.objectContaining({ range: '10.2.0.0/24', rangeStart: '10.2.0.10' }));
    expect(
      ipamFromCniConfig(JSON.stringify({ ipam: { type: 'static', addresses: [{ address: '10.3.0.7/24' }] } }))
        ?.range,
    ).toBe('10.3.0.0/24');
    expect(ipamFromCniConfig('not json')).toBeUndefined();
  });

  it('parses both forms of the Multus networks annotation', () => {
    expect(parseNetworkSelections('[{"name":"net-a","ips":["10.1.0.5/24"]}]')).toEqual([
      { name: 'net-a', ips: ['10.1.0.5/24'] },
    ]);
    expect(parseNetworkSelections('net-a, other/net-b@eth2')).toEqual([
      { name: 'net-a', namespace: undefined, interface: undefined },
      { name: 'net-b', namespace: 'other', interface: 'eth2' },
    ]);
    expect(parseNetworkSelections(undefined)).toEqual([]);
  });
});
