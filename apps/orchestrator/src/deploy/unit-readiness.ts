/**
 * Whether a unit is up, or gone (issue #5 §5), by watching rather than polling: a unit is Ready when
 * every Deployment and StatefulSet in it is ready by `readinessOf` (the controller observed the latest
 * spec, all replicas updated and available); it has failed early when one of its pods is stuck in a
 * state the kubelet only backs off from (crash loop, image pull back-off, bad config). A unit is gone
 * when its workloads and their pods are.
 */
import { Informer, type KubeClient, type KubeObject, readinessOf } from '@stratum/kube';
import { WORKLOAD_KINDS } from './deploy-plan';

/** Container waiting reasons that mean the pod will not become Ready by itself. */
const STUCK_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

export class UnitNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnitNotReadyError';
  }
}

interface PodView extends KubeObject {
  status?: {
    containerStatuses?: Array<{ name?: string; state?: { waiting?: { reason?: string; message?: string } } }>;
  };
}

interface WorkloadView extends KubeObject {
  spec?: { selector?: { matchLabels?: Record<string, string> } };
}

/** Why a pod is stuck for good, or undefined. */
export function podStuck(pod: PodView): string | undefined {
  for (const container of pod.status?.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
      const detail = waiting.message ? ` (${waiting.message})` : '';
      return `pod ${pod.metadata?.name}: container ${container.name} ${waiting.reason}${detail}`;
    }
  }
  return undefined;
}

function selectorOf(workload: WorkloadView): string | undefined {
  const labels = workload.spec?.selector?.matchLabels;
  if (!labels || !Object.keys(labels).length) return undefined;
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

interface Watched {
  workload: WorkloadView;
  objects: Informer<WorkloadView>;
  pods?: Informer<PodView>;
}

/**
 * Watches the workloads among `manifests` (and their pods) until `verdict` says done (resolve) or
 * failed (reject), or the time is up (reject with the last reasons).
 */
async function watchWorkloads(
  client: KubeClient,
  manifests: readonly KubeObject[],
  timeoutMs: number,
  verdict: (watched: Watched[]) => { done: boolean; failed?: string; reasons: string[] },
  timeoutMessage: (reasons: string[]) => string,
): Promise<void> {
  const watched: Watched[] = manifests
    .filter((object) => WORKLOAD_KINDS.has(object.kind ?? ''))
    .map((workload) => {
      const namespace = workload.metadata?.namespace;
      const selector = selectorOf(workload);
      return {
        workload,
        objects: new Informer<WorkloadView>(client, workload.apiVersion!, workload.kind!, {
          namespace,
          fieldSelector: `metadata.name=${workload.metadata!.name}`,
        }),
        pods: selector
          ? new Informer<PodView>(client, 'v1', 'Pod', { namespace, labelSelector: selector })
          : undefined,
      };
    });
  if (!watched.length) return;
  const informers = watched.flatMap((w) => (w.pods ? [w.objects, w.pods] : [w.objects]));
  let reasons: string[] = ['not observed yet'];
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => settle(new UnitNotReadyError(timeoutMessage(reasons))), timeoutMs);
      let started = false;
      const evaluate = () => {
        if (!started || settled) return;
        const result = verdict(watched);
        reasons = result.reasons;
        if (result.failed) settle(new UnitNotReadyError(result.failed));
        else if (result.done) settle();
      };
      for (const informer of informers) {
        informer.on('add', evaluate).on('update', evaluate).on('delete', evaluate);
      }
      Promise.all(informers.map((informer) => informer.start())).then(
        () => {
          started = true;
          evaluate();
        },
        (error: unknown) => settle(error as Error),
      );
    });
  } finally {
    await Promise.all(informers.map((informer) => informer.stop()));
  }
}

/** Resolves once every workload of the unit is Ready; rejects with UnitNotReadyError saying why not. */
export function waitForUnitReady(
  client: KubeClient,
  unitName: string,
  manifests: readonly KubeObject[],
  timeoutMs: number,
): Promise<void> {
  return watchWorkloads(
    client,
    manifests,
    timeoutMs,
    (watched) => {
      const reasons: string[] = [];
      for (const { workload, objects, pods } of watched) {
        const name = `${workload.kind} ${workload.metadata!.name}`;
        const stuck = pods
          ?.list()
          .map(podStuck)
          .find((reason) => reason !== undefined);
        if (stuck) return { done: false, failed: `unit ${unitName}: ${name}: ${stuck}`, reasons };
        const live = objects.get(workload.metadata!.name!, workload.metadata!.namespace);
        const readiness = live ? readinessOf(live) : { ready: false, reason: 'does not exist' };
        if (!readiness.ready) reasons.push(`${name}: ${readiness.reason}`);
      }
      return { done: reasons.length === 0, reasons };
    },
    (reasons) => `unit ${unitName} not ready after ${timeoutMs} ms: ${reasons.join('; ')}`,
  );
}

/** Resolves once the unit's workloads and their pods are gone; rejects after the timeout. */
export function waitForUnitGone(
  client: KubeClient,
  unitName: string,
  manifests: readonly KubeObject[],
  timeoutMs: number,
): Promise<void> {
  return watchWorkloads(
    client,
    manifests,
    timeoutMs,
    (watched) => {
      const reasons: string[] = [];
      for (const { workload, objects, pods } of watched) {
        const name = `${workload.kind} ${workload.metadata!.name}`;
        if (objects.list().length) reasons.push(`${name} still exists`);
        const left = pods?.list().length ?? 0;
        if (left) reasons.push(`${name}: ${left} pods left`);
      }
      return { done: reasons.length === 0, reasons };
    },
    (reasons) => `unit ${unitName} not gone after ${timeoutMs} ms: ${reasons.join('; ')}`,
  );
}
