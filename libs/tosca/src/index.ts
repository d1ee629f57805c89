// @stratum/tosca — TOSCA Simple Profile in YAML 1.3 processor (plain TypeScript, issue #5 §1).
export { processTemplate } from './lib/processor';
export type { ProcessOptions, ProcessResult } from './lib/processor';
export { DIAGNOSTIC_CODES, compareDiagnostics } from './lib/diagnostics';
export type { Diagnostic, DiagnosticCode } from './lib/diagnostics';
export { fileSystemSource, memorySource } from './lib/source';
export type { ToscaSource } from './lib/source';
export { evaluate, ToscaEvaluationError } from './lib/functions';
export type { EvaluationContext } from './lib/functions';
export { NORMATIVE_PROFILE } from './lib/loader';
export type { ProfileSpec } from './lib/loader';
export { writeZip, readCsar } from './lib/csar';
export { parseScalarUnit, parseVersion } from './lib/scalars';
export type { ScalarUnitValue } from './lib/scalars';
export * from './lib/model';
// The Stratum profile: processor rules, rule 10 against the tenant, the translator (issue #5 §2-3).
export { checkStratumRules } from './stratum/rules';
export { checkTenantResources } from './stratum/tenant-checks';
export {
  canonicalJson,
  processAndTranslate,
  translateStack,
  validateStratumTemplate,
} from './stratum/translate';
export type {
  Manifest,
  MicroserviceScalingPolicyLike,
  ProcessAndTranslateOptions,
  ProcessAndTranslateResult,
  ScalingWindowLike,
  StratumEnvironment,
  StratumPlan,
  StratumProcessOptions,
  StratumTenantView,
  StratumValidation,
  TimeStrategyLike,
  TranslatedUnit,
  TranslateOptions,
  TranslateResult,
  UtilisationStrategyLike,
} from './stratum/translate';
export { planSummary, renderManifests, renderPlan } from './stratum/render';
export {
  MULTUS_NETWORKS_ANNOTATION,
  STRATUM_ANNOTATIONS,
  STRATUM_LABELS,
  STRATUM_PROFILE,
} from './stratum/keys';
export { locatorOf } from './lib/locator';
export type { SourcePosition, TemplateLocator, YamlPath } from './lib/locator';
