// `stratum tosca validate | translate` as a user runs it (issue #5 §7): the launcher in a child
// process, its exit status, stdout and stderr.
import {
  fileSystemSource,
  processAndTranslate,
  renderManifests,
  type StratumTenantView,
  writeZip,
} from '@stratum/tosca';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const golden = 'libs/tosca/test/golden';
const tenantView = `${golden}/tenant-view.json`;

function stratum(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'tools/cli/stratum.js'), ...args],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function planOf(file: string, stack?: string) {
  const view = JSON.parse(readFileSync(join(root, tenantView), 'utf8')) as StratumTenantView;
  const result = await processAndTranslate(file, fileSystemSource(root), view, { stack });
  return result.plan!;
}

describe('stratum tosca (issue #5 §7)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'stratum-cli-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('validate: a valid template exits 0 and prints nothing', async () => {
    const run = await stratum('tosca', 'validate', `${golden}/01-one-network.yaml`);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('validate: an invalid template exits 1 with file:line:column: error CODE: message (path) on stderr', async () => {
    const file = 'libs/tosca/test/invalid/stratum-r02-request-above-limit.yaml';
    const run = await stratum('tosca', 'validate', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file}:11:24: error STRATUM_REQUEST_ABOVE_LIMIT: cpu_request 2 of api is greater than cpu_limit 1500m; .+ \\(topology_template\\.node_templates\\.api\\.properties\\.resources\\.cpu_request\\)$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^${file}:13:27: error STRATUM_REQUEST_ABOVE_LIMIT: `)),
    ]);
  });

  it('validate --format json: the diagnostics as a JSON array on stdout', async () => {
    const run = await stratum(
      'tosca',
      'validate',
      'libs/tosca/test/invalid/stratum-r06-probes.yaml',
      '--format',
      'json',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const diagnostics = JSON.parse(run.stdout) as Array<{ code: string; line: number; severity: string }>;
    expect(diagnostics.map((d) => `${d.code}@${d.line}`)).toEqual([
      'STRATUM_PROBE_PROPERTY@10',
      'STRATUM_PROBE_PROPERTY@16',
      'STRATUM_NOT_WHOLE_SECONDS@17',
      'STRATUM_PROBE_PROPERTY@23',
      'STRATUM_PROBE_PROPERTY@25',
      'STRATUM_NOT_WHOLE_SECONDS@26',
    ]);
    const valid = await stratum('tosca', 'validate', `${golden}/03-volumes.yaml`, '--format', 'json');
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual([
      expect.objectContaining({ code: 'STRATUM_NO_READINESS_PROBE', severity: 'warning', line: 14 }),
      expect.objectContaining({ code: 'STRATUM_NO_READINESS_PROBE', severity: 'warning', line: 30 }),
    ]);
  });

  it('validate: a CSAR too', async () => {
    const csar = join(scratch, 'shop.csar');
    writeFileSync(
      csar,
      writeZip({
        'TOSCA-Metadata/TOSCA.meta':
          'TOSCA-Meta-File-Version: 1.1\nCSAR-Version: 1.1\nCreated-By: test\nEntry-Definitions: shop.yaml\n',
        'shop.yaml': readFileSync(join(root, golden, '02-three-services-two-networks.yaml')),
      }),
    );
    expect(await stratum('tosca', 'validate', csar)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('usage errors exit 2 with the usage text', async () => {
    for (const args of [
      ['tosca', 'validate'],
      ['tosca', 'validate', `${golden}/01-one-network.yaml`, '--colour'],
      ['tosca', 'validate', `${golden}/01-one-network.yaml`, '--format', 'xml'],
      ['tosca', 'translate', `${golden}/01-one-network.yaml`],
      [
        'tosca',
        'translate',
        `${golden}/01-one-network.yaml`,
        '--tenant-view',
        `${golden}/01-one-network.yaml`,
      ],
      ['tosca', 'frobnicate'],
      ['deploy'],
    ]) {
      const run = await stratum(...args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain('Usage:');
    }
  });

  it('translate: the manifests as multi-document YAML on stdout (R-OR-2)', async () => {
    const file = `${golden}/02-three-services-two-networks.yaml`;
    const run = await stratum('tosca', 'translate', file, '--tenant-view', tenantView);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(renderManifests(await planOf(file)));
    expect(run.stdout).toContain('app.kubernetes.io/part-of: shop'); // the stack from metadata.template_name
  });

  it('translate --out: one file per unit under <dir>/<network>/<service>.yaml, plus autoscaling.json and plan.json', async () => {
    const file = `${golden}/05-autoscaling-windows.yaml`;
    const out = join(scratch, 'out');
    const run = await stratum(
      'tosca',
      'translate',
      file,
      '--tenant-view',
      tenantView,
      '--stack',
      'pay',
      '--out',
      out,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      join(out, 'core-net', 'pay-api.yaml'),
      join(out, 'core-net', 'pay-report.yaml'),
      join(out, 'autoscaling.json'),
      join(out, 'plan.json'),
    ]);
    const plan = await planOf(file, 'pay');
    expect(readFileSync(join(out, 'core-net', 'pay-api.yaml'), 'utf8')).toBe(renderManifests(plan.units[0]));
    expect(JSON.parse(readFileSync(join(out, 'autoscaling.json'), 'utf8'))).toEqual(plan.autoscaling);
    expect(JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8'))).toMatchObject({
      stack: 'pay',
      units: [
        { name: 'pay-api', networkName: 'core-net', dependsOn: [] },
        { name: 'pay-report', networkName: 'core-net', dependsOn: [] },
      ],
    });
  });

  it('translate: a template the tenant cannot run exits 1, naming what to do (rule 10, R-OR-3)', async () => {
    const run = await stratum(
      'tosca',
      'translate',
      'libs/tosca/test/invalid/stratum-r10-tenant-resources.yaml',
      '--tenant-view',
      tenantView,
      '--stack',
      'shop',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'stratum-r10-tenant-resources.yaml:9:18: error STRATUM_UNKNOWN_NETWORK: network edge-net of web is not a network of tenant bank-retail',
    );
    expect(run.stderr).toContain('assign network edge-net to the tenant first');
  });
});
