// processTemplate: the entry point of the TOSCA processor (issue #5 §1). It never throws: every
// problem, including an internal failure, is returned as a diagnostic.
import { Reporter } from './context';
import { compareDiagnostics, type Diagnostic } from './diagnostics';
import { Loader, loadProfiles, type ProfileSpec } from './loader';
import { attachLocator } from './locator';
import type { ServiceTemplate } from './model';
import type { ToscaSource } from './source';
import { buildTopology } from './topology';
import { validateTypes } from './validate-types';

export interface ProcessOptions {
  /**
   * Type profiles loaded implicitly after the normative TOSCA 1.3 types: a file name bundled in
   * libs/tosca/src/profiles (e.g. 'stratum-profile-1.0.yaml') or { name, text }. Parsed once per process.
   */
  profiles?: ProfileSpec[];
  /** Input values supplied at deploy time; when given, they are validated and required inputs enforced. */
  inputs?: Record<string, unknown>;
}

export interface ProcessResult {
  /** No error (warnings allowed). */
  ok: boolean;
  /** All diagnostics, sorted by file, line, column. */
  diagnostics: Diagnostic[];
  /** The resolved model; present whenever the entry file could be parsed (best effort when not ok). */
  template?: ServiceTemplate;
}

export async function processTemplate(
  entry: string,
  source: ToscaSource,
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const r = new Reporter();
  let template: ServiceTemplate | undefined;
  try {
    const profiles = loadProfiles(options.profiles ?? []);
    for (const d of profiles.diagnostics) {
      r.diagnostics.push(d);
      if (d.severity === 'error') r.errorCount++;
    }
    const loader = new Loader(r, source, profiles.units);
    const entryUnit = await loader.loadEntry(entry);
    if (entryUnit) {
      const units = [...loader.units.values()];
      validateTypes(r, units);
      if (entryUnit.root) {
        template = buildTopology(r, entryUnit, units, { inputs: options.inputs });
        // Later checks on the model (Stratum rules, translator) report positions too: locatorOf(template).
        attachLocator(template, entryUnit);
      }
    }
  } catch (e) {
    r.error(
      'TOSCA_INTERNAL',
      undefined,
      0,
      '',
      `internal error of the TOSCA processor: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    );
  }
  const diagnostics = r.diagnostics.sort(compareDiagnostics);
  return { ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics, template };
}
