// TOSCA 1.3 primitive and special types (section 3.3): scalar-unit parsing, version ordering and
// the comparison used by constraints.

export const SCALAR_UNITS: Record<string, Record<string, number>> = {
  'scalar-unit.size': {
    B: 1,
    kB: 1e3,
    KiB: 1024,
    MB: 1e6,
    MiB: 1024 ** 2,
    GB: 1e9,
    GiB: 1024 ** 3,
    TB: 1e12,
    TiB: 1024 ** 4,
  },
  'scalar-unit.time': { d: 86400, h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 },
  'scalar-unit.frequency': { Hz: 1, kHz: 1e3, MHz: 1e6, GHz: 1e9 },
  'scalar-unit.bitrate': {
    bps: 1,
    Kbps: 1e3,
    Kibps: 1024,
    Mbps: 1e6,
    Mibps: 1024 ** 2,
    Gbps: 1e9,
    Gibps: 1024 ** 3,
    Tbps: 1e12,
    Tibps: 1024 ** 4,
  },
};

export const PRIMITIVE_TYPES = new Set([
  'string',
  'integer',
  'float',
  'boolean',
  'timestamp',
  'null',
  'version',
  'range',
  'list',
  'map',
  'scalar-unit.size',
  'scalar-unit.time',
  'scalar-unit.frequency',
  'scalar-unit.bitrate',
]);

export interface ScalarUnitValue {
  value: number;
  unit: string;
  /** In the base unit: bytes, seconds, hertz, bits per second. */
  normalized: number;
}

const SCALAR_RE = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$/;

/** Parses "10 s", "1.5 GiB", "100Mbps". Units match exactly, else case-insensitively (size units are case-insensitive in 1.3). */
export function parseScalarUnit(type: string, text: unknown): ScalarUnitValue | undefined {
  const units = SCALAR_UNITS[type];
  if (!units || typeof text !== 'string') return undefined;
  const m = SCALAR_RE.exec(text);
  if (!m) return undefined;
  let unit = m[2];
  let factor = units[unit];
  if (factor === undefined) {
    const lower = unit.toLowerCase();
    const found = Object.keys(units).find((u) => u.toLowerCase() === lower);
    if (!found || (type === 'scalar-unit.time' && found !== unit && (lower === 'ms' || lower === 'm')))
      return undefined;
    unit = found;
    factor = units[found];
  }
  const value = Number(m[1]);
  return { value, unit, normalized: value * factor };
}

export const VERSION_RE = /^(\d+)\.(\d+)(?:\.(\d+)(?:\.([A-Za-z0-9_]+)(?:-(\d+))?)?)?$/;

export function parseVersion(text: string): number[] | undefined {
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number(m[5] ?? 0)];
}

// YAML 1.1 timestamp forms as TOSCA uses them (ISO 8601 date or date-time).
const TIMESTAMP_RE =
  /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::?\d{2})?))?)?$/;

export function isTimestamp(text: string): boolean {
  return (
    TIMESTAMP_RE.test(text) &&
    !Number.isNaN(Date.parse(text.replace(/[ \t]+(?=\d{1,2}:)/, 'T').replace(/[ \t]+/g, '')))
  );
}

/** A value made comparable for constraint checks of `base` type; undefined when not comparable. */
export function comparable(
  base: string,
  value: unknown,
  raw?: string,
): number | string | number[] | undefined {
  if (base.startsWith('scalar-unit.')) return parseScalarUnit(base, value)?.normalized;
  if (base === 'version') return parseVersion(raw ?? String(value));
  if (base === 'timestamp')
    return typeof value === 'string' ? Date.parse(value.replace(' ', 'T')) : undefined;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

export function compare(a: number | string | number[], b: number | string | number[]): number | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d) return d;
    }
    return 0;
  }
  if (typeof a !== typeof b) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}
