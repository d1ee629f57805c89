import { readCsar, writeZip } from './csar';
import { parseScalarUnit, parseVersion } from './scalars';

describe('scalar units and versions', () => {
  it.each([
    ['scalar-unit.size', '1 GiB', 1024 ** 3],
    ['scalar-unit.size', '10 mb', 1e7],
    ['scalar-unit.time', '2 m', 120],
    ['scalar-unit.time', '150ms', 0.15],
    ['scalar-unit.frequency', '2.5 GHz', 2.5e9],
    ['scalar-unit.bitrate', '100 Mbps', 1e8],
  ])('%s %s', (type, text, normalized) => {
    expect(parseScalarUnit(type, text)?.normalized).toBeCloseTo(normalized);
  });

  it('rejects unknown units and bare numbers', () => {
    expect(parseScalarUnit('scalar-unit.size', '10 parsecs')).toBeUndefined();
    expect(parseScalarUnit('scalar-unit.time', 30)).toBeUndefined();
  });

  it('orders versions', () => {
    expect(parseVersion('1.2.3.beta-4')).toEqual([1, 2, 3, 4]);
    expect(parseVersion('1')).toBeUndefined();
  });
});

describe('CSAR reader', () => {
  it('reads stored and deflated entries and reports unsupported archives', () => {
    const files = { 'TOSCA-Metadata/TOSCA.meta': 'Entry-Definitions: a.yaml\n', 'a.yaml': 'x: 1\n' };
    for (const deflate of [true, false]) {
      const csar = readCsar(writeZip(files, deflate));
      expect(csar.problems).toEqual([]);
      expect(csar.entry).toBe('a.yaml');
      expect(csar.files.get('a.yaml')?.toString()).toBe('x: 1\n');
    }
    const zip = writeZip({ 'a.yaml': 'x' }, false);
    zip.writeUInt16LE(12, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10); // method 12 (bzip2)
    expect(readCsar(zip).problems.join()).toMatch(/compression method 12 is not supported/);
    expect(readCsar(Buffer.from('nope')).problems.join()).toMatch(/not a ZIP archive/);
  });
});
