/**
 * From a submitted template to an accepted revision (issue #5 §4): process it with the Stratum profile,
 * check the rules and that the tenant owns every network, NFS server and volume it names (against the
 * orchestrator's own view, R-OR-3), translate it to one unit per microservice, and record the plan as
 * the stack's next revision for the deployment worker. Nothing is recorded unless every check passes;
 * a refused template answers every diagnostic at once.
 */
import { type Diagnostic, memorySource, processAndTranslate, type StratumPlan } from '@stratum/tosca';
import { DomainException, ErrorCode } from '@stratum/service-kit';
import type { StackRevisionPlan } from '../deploy/deploy-plan';
import type { DeploymentWorker } from '../deploy/deployment-worker';
import type { AcceptedChange, StackStore } from '../deploy/stack-store';
import type { TenantView } from '../tenant-view/tenant-view';
import type { StackTemplate } from './api-schemas';

/** The entry's name in diagnostics: `template.yaml:12:5`, or the CSAR's entry inside `stack.csar`. */
export const TEMPLATE_ENTRY = 'template.yaml';
export const CSAR_ENTRY = 'stack.csar';

export interface Translation {
  ok: boolean;
  /** Errors and warnings of every step, sorted by position. */
  diagnostics: Diagnostic[];
  plan?: StratumPlan;
}

/** The template refused: 400 with every diagnostic, the first few in the message. */
export function templateRefused(diagnostics: Diagnostic[]): DomainException {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const shown = errors
    .slice(0, 3)
    .map((d) => `${d.file}:${d.line}:${d.column} ${d.code}: ${d.message}`)
    .join('; ');
  const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : '';
  return new DomainException(
    ErrorCode.ValidationFailed,
    `template: ${errors.length} error${errors.length === 1 ? '' : 's'}: ${shown}${more}`,
    'Correct the template at the positions given in details.diagnostics and submit it again; no revision was recorded. `npx stratum tosca validate <file>` shows the same diagnostics locally.',
    {
      problems: errors.map((d) => ({
        field: `template ${d.file}:${d.line}:${d.column}`,
        message: d.message,
      })),
      diagnostics,
    },
  );
}

/** The translator's unit as the deployment engine's: the same data, named the engine's way. */
export function revisionPlan(plan: StratumPlan): StackRevisionPlan {
  return {
    tenantId: plan.tenantId,
    stack: plan.stack,
    units: plan.units.map((unit) => ({
      name: unit.name,
      clusterId: unit.clusterId,
      namespace: unit.namespace,
      environmentId: unit.environmentId,
      manifests: unit.manifests,
      dependsOn: unit.dependsOn,
    })),
    autoscaling: plan.autoscaling,
  };
}

export class StackSubmissions {
  constructor(
    private readonly view: TenantView,
    private readonly store: StackStore,
    private readonly worker: DeploymentWorker,
  ) {}

  /** Validates and translates against the tenant's current resources; records nothing (the dry run). */
  async translate(tenantId: string, stack: string, body: StackTemplate): Promise<Translation> {
    const tenant = await this.view.of(tenantId);
    const [entry, files] =
      body.csar !== undefined
        ? [CSAR_ENTRY, { [CSAR_ENTRY]: Buffer.from(body.csar, 'base64') }]
        : [TEMPLATE_ENTRY, { ...body.files, [TEMPLATE_ENTRY]: body.template! }];
    const result = await processAndTranslate(entry, memorySource(files), tenant, {
      stack,
      inputs: body.inputs,
    });
    return { ok: result.ok && result.plan !== undefined, diagnostics: result.diagnostics, plan: result.plan };
  }

  /** Records the template as the stack's next revision and wakes the worker; 400 with every diagnostic otherwise. */
  async submit(
    tenantId: string,
    stack: string,
    body: StackTemplate,
    requestedBy: string,
  ): Promise<AcceptedChange & { warnings: Diagnostic[] }> {
    const translation = await this.translate(tenantId, stack, body);
    if (!translation.ok || !translation.plan) throw templateRefused(translation.diagnostics);
    const accepted = await this.store.acceptRevision(
      revisionPlan(translation.plan),
      // The revision keeps what was submitted: the YAML text, or the CSAR archive in base64.
      body.template ?? body.csar!,
      { requestedBy },
    );
    this.worker.wake();
    return { ...accepted, warnings: translation.diagnostics.filter((d) => d.severity === 'warning') };
  }

  /** A rollback or deletion was recorded: let the worker pick it up now rather than at its next poll. */
  wake(): void {
    this.worker.wake();
  }
}
