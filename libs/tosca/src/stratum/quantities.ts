// Kubernetes quantities as the Stratum Resources data type allows them (rule 2): CPU in cores or
// millicores, memory in bytes with a decimal or binary suffix.

const CPU = /^(\d+(?:\.\d{1,3})?|\d+m)$/;
const MEMORY = /^(\d+(?:\.\d+)?)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MEMORY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Millicores. */
export function cpuMillicores(text: unknown): number | undefined {
  if (typeof text !== 'string' || !CPU.test(text)) return undefined;
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Math.round(Number(text) * 1000);
}

/** Bytes (a float: only compared). */
export function memoryBytes(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = MEMORY.exec(text);
  return m ? Number(m[1]) * MEMORY_FACTORS[m[2] ?? ''] : undefined;
}
