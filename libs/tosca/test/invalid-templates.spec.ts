// Table-driven error tests: every test/invalid/*.yaml starts with "# expect: CODE@line[:col] ...",
// the exact set of errors (all of them, order-insensitive) the processor must report.
// stratum-*.yaml are Stratum stacks: processed with the Stratum profile, its processor rules and
// rule 10 against the golden tenant view (processAndTranslate), as the orchestrator does (R-OR-2/3).
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  DIAGNOSTIC_CODES,
  fileSystemSource,
  processAndTranslate,
  processTemplate,
  type StratumTenantView,
} from '../src';

const dir = path.join(__dirname, 'invalid');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function expectations(file: string): { code: string; line: number; column?: number }[] {
  const first = readFileSync(path.join(dir, file), 'utf8').split('\n')[0];
  const m = /^#\s*expect:\s*(.+)$/.exec(first);
  if (!m) throw new Error(`${file}: the first line must be "# expect: CODE@line[:col] ..."`);
  return m[1]
    .trim()
    .split(/\s+/)
    .map((token) => {
      const [code, pos] = token.split('@');
      const [line, column] = pos.split(':').map(Number);
      return { code, line, column };
    });
}

function tenantView(): StratumTenantView {
  return JSON.parse(
    readFileSync(path.join(__dirname, 'golden', 'tenant-view.json'), 'utf8'),
  ) as StratumTenantView;
}

describe('invalid TOSCA templates', () => {
  it('has at least 45 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(45);
  });

  it.each(files)('%s', async (file) => {
    const expected = expectations(file);
    const result = file.startsWith('stratum-')
      ? await processAndTranslate(file, fileSystemSource(dir), tenantView(), { stack: 'invalid' })
      : await processTemplate(file, fileSystemSource(dir));
    expect(result.ok).toBe(false);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    // An expectation without a column matches any column on that line.
    const withColumns = expected.every((e) => e.column !== undefined);
    const key = (e: { code: string; line: number; column?: number }) =>
      `${e.code}@${e.line}${withColumns && e.column !== undefined ? `:${e.column}` : ''}`;
    expect(errors.map(key).sort()).toEqual(expected.map(key).sort());
    for (const d of errors) {
      expect(DIAGNOSTIC_CODES[d.code]).toBeDefined();
      expect(d.file).toBe(file);
      expect(d.message.length).toBeGreaterThan(10);
    }
  });
});
