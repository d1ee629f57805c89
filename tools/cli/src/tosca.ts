// `stratum tosca validate | translate` (issue #5 §7): the Stratum TOSCA processor, its rules and the
// translator from the command line, with the diagnostics the orchestrator's API gives.
import {
  type Diagnostic,
  fileSystemSource,
  planSummary,
  processAndTranslate,
  renderManifests,
  type StratumTenantView,
  validateStratumTemplate,
} from '@stratum/tosca';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, EXIT, USAGE } from './cli';

class UsageError extends Error {}

/** `file:line:column: error CODE: message (path)` — the form editors and CI annotations understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}${d.path ? ` (${d.path})` : ''}`;
}

function writeDiagnostics(io: CliIo, diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
}

/** The template argument as the processor's entry: relative to the working directory, posix separators. */
function entryOf(io: CliIo, file: string): string {
  return path.relative(io.cwd, path.resolve(io.cwd, file)).split(path.sep).join('/');
}

function parseInputs(values: string[] | undefined): Record<string, unknown> | undefined {
  if (!values?.length) return undefined;
  const inputs: Record<string, unknown> = {};
  for (const text of values) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input takes name=value, got '${text}'`);
    const raw = text.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    inputs[text.slice(0, eq)] = value;
  }
  return inputs;
}

function readTenantView(io: CliIo, file: string): StratumTenantView {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path.resolve(io.cwd, file), 'utf8'));
  } catch (error) {
    throw new UsageError(`--tenant-view ${file}: ${(error as Error).message}`);
  }
  const view = parsed as Partial<StratumTenantView>;
  const problems: string[] = [];
  if (typeof view?.tenantId !== 'string') problems.push('tenantId must be a string');
  if (!Array.isArray(view?.environments)) problems.push('environments must be a list');
  else {
    view.environments.forEach((e, i) => {
      for (const key of [
        'environmentId',
        'networkName',
        'clusterId',
        'namespace',
        'securityDomain',
        'networkAttachment',
      ]) {
        if (typeof (e as unknown as Record<string, unknown>)?.[key] !== 'string')
          problems.push(`environments[${i}].${key} must be a string`);
      }
    });
  }
  if (!Array.isArray(view?.volumes)) problems.push('volumes must be a list');
  else {
    view.volumes.forEach((v, i) => {
      if (typeof v?.name !== 'string' || typeof v?.claimName !== 'string')
        problems.push(`volumes[${i}] needs name and claimName`);
    });
  }
  if (problems.length)
    throw new UsageError(`--tenant-view ${file} is not a tenant view: ${problems.join('; ')}`);
  return { nfsServers: [], ...view } as StratumTenantView;
}

function oneTemplate(positionals: string[], command: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `tosca ${command}: the template file (or CSAR) is required`
        : `tosca ${command}: one template file, got ${positionals.join(' ')}`,
    );
  }
  return positionals[0];
}

function format(value: string | undefined, allowed: string[], fallback: string): string {
  const f = value ?? fallback;
  if (!allowed.includes(f)) throw new UsageError(`--format must be ${allowed.join(' or ')}, got '${f}'`);
  return f;
}

async function validate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string' }, input: { type: 'string', multiple: true } },
  });
  const file = oneTemplate(positionals, 'validate');
  const output = format(values.format, ['text', 'json'], 'text');
  const result = await validateStratumTemplate(entryOf(io, file), fileSystemSource(io.cwd), {
    inputs: parseInputs(values.input),
  });
  if (output === 'json') io.stdout(`${JSON.stringify(result.diagnostics, null, 2)}\n`);
  else writeDiagnostics(io, result.diagnostics);
  return result.ok ? EXIT.ok : EXIT.invalid;
}

async function translate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'tenant-view': { type: 'string' },
      stack: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      input: { type: 'string', multiple: true },
    },
  });
  const file = oneTemplate(positionals, 'translate');
  if (!values['tenant-view']) throw new UsageError('tosca translate: --tenant-view <json> is required');
  const output = format(values.format, ['yaml', 'json'], 'yaml');
  if (output === 'json' && values.out)
    throw new UsageError('--format json prints to stdout; leave out --out');
  const view = readTenantView(io, values['tenant-view']);
  const result = await processAndTranslate(entryOf(io, file), fileSystemSource(io.cwd), view, {
    stack: values.stack,
    inputs: parseInputs(values.input),
  });
  if (output === 'json') {
    const { ok, diagnostics, plan } = result;
    io.stdout(`${JSON.stringify({ ok, diagnostics, plan }, null, 2)}\n`);
    return ok ? EXIT.ok : EXIT.invalid;
  }
  writeDiagnostics(io, result.diagnostics);
  const plan = result.plan;
  if (!plan) return EXIT.invalid;
  if (!values.out) {
    io.stdout(renderManifests(plan));
    return EXIT.ok;
  }
  const out = path.resolve(io.cwd, values.out);
  const files: Array<[string, string]> = [
    ...plan.units.map((unit): [string, string] => [
      path.join(out, unit.networkName, `${unit.name}.yaml`),
      renderManifests(unit),
    ]),
    [path.join(out, 'autoscaling.json'), `${JSON.stringify(plan.autoscaling, null, 2)}\n`],
    [path.join(out, 'plan.json'), `${JSON.stringify(planSummary(plan), null, 2)}\n`],
  ];
  for (const [target, text] of files) {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    io.stdout(`${path.isAbsolute(values.out) ? target : path.relative(io.cwd, target)}\n`);
  }
  return EXIT.ok;
}

export async function toscaCommand(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === 'validate') return await validate(args, io);
    if (command === 'translate') return await translate(args, io);
    if (command === '--help' || command === '-h') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    throw new UsageError(
      command === undefined
        ? 'tosca: a subcommand is required (validate, translate)'
        : `tosca: unknown subcommand '${command}'`,
    );
  } catch (error) {
    // parseArgs reports unknown options and missing values with a code of ERR_PARSE_ARGS_*
    const code = (error as { code?: string }).code;
    if (error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`stratum: ${(error as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    throw error;
  }
}
