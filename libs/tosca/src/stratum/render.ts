// Rendering a translated stack as YAML (issue #5 §2 "deterministic"): multi-document, keys in the
// order the translator builds them (apiVersion, kind, metadata, spec, …; label and annotation maps
// sorted), no anchors, no line folding — the same plan always gives the same bytes.
//
// Strings are quoted whenever a YAML 1.1 or a YAML 1.2 parser would read them as something else
// (kubectl's parser follows 1.1: `yes`, `on`, `08:00` and `0o17` must stay strings).
import { Document, parse, visit } from 'yaml';
import type { Diagnostic } from '../lib/diagnostics';
import type { Manifest, StratumPlan, TranslatedUnit } from './translate';

/** Plain scalars starting with an indicator are legal in some positions only; not every parser agrees. */
const LEADING_INDICATOR = /^[-:?,[\]{}#&*!|>'"%@`]/;
/** Single quotes can hold it (no line break, no control character). */
const PRINTABLE = /^[^\x00-\x1f\x7f]*$/;

function readsBackAsString(text: string, version: '1.1' | '1.2'): boolean {
  try {
    return parse(text, { version }) === text;
  } catch {
    return false;
  }
}

/** One YAML document (without the `---` marker), ending with a newline. */
export function toYaml(value: unknown): string {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      const text = node.value;
      if (typeof text !== 'string' || text === '') return;
      if (
        LEADING_INDICATOR.test(text) ||
        !readsBackAsString(text, '1.1') ||
        !readsBackAsString(text, '1.2')
      ) {
        node.type = PRINTABLE.test(text) ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE';
      }
    },
  });
  return doc.toString({ lineWidth: 0, minContentWidth: 0 });
}

function unitComment(unit: TranslatedUnit): string {
  const depends = unit.dependsOn.length ? unit.dependsOn.join(', ') : '(nothing)';
  return (
    `# unit ${unit.name}: network ${unit.networkName} (environment ${unit.environmentId}), ` +
    `cluster ${unit.clusterId}, namespace ${unit.namespace}; depends on ${depends}\n`
  );
}

function renderUnit(unit: TranslatedUnit): string {
  return unit.manifests
    .map((manifest: Manifest, i) => `---\n${i === 0 ? unitComment(unit) : ''}${toYaml(manifest)}`)
    .join('');
}

function isPlan(value: TranslatedUnit | StratumPlan): value is StratumPlan {
  return Array.isArray((value as StratumPlan).units);
}

/**
 * The Kubernetes objects of a unit, or of every unit of a plan in plan order, as multi-document
 * YAML (what `kubectl apply -f -` reads). Each unit's first document starts with a comment naming
 * the unit, its environment and the units it depends on.
 */
export function renderManifests(value: TranslatedUnit | StratumPlan): string {
  return isPlan(value) ? value.units.map(renderUnit).join('') : renderUnit(value);
}

/** The plan without the objects: units with their placement and order, and the autoscaling policies. */
export function planSummary(plan: StratumPlan): Record<string, unknown> {
  return {
    tenantId: plan.tenantId,
    stack: plan.stack,
    units: plan.units.map((unit) => ({
      name: unit.name,
      environmentId: unit.environmentId,
      networkName: unit.networkName,
      clusterId: unit.clusterId,
      namespace: unit.namespace,
      dependsOn: unit.dependsOn,
      objects: unit.manifests.map((m) => `${m.kind}/${m.metadata.name}`),
    })),
    autoscaling: plan.autoscaling,
  };
}

/**
 * The whole plan as YAML: first a document with {@link planSummary}, then every unit's objects as
 * {@link renderManifests} does. Warnings, when given, open the text as comments. This is the form of
 * the golden files (libs/tosca/test/golden/*.expected.yaml).
 */
export function renderPlan(plan: StratumPlan, warnings: readonly Diagnostic[] = []): string {
  const header = warnings
    .map((w) => `# warning ${w.code} at ${w.file}:${w.line}:${w.column} (${w.path}): ${w.message}\n`)
    .join('');
  return `${header}---\n${toYaml(planSummary(plan))}${renderManifests(plan)}`;
}
