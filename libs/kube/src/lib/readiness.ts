import type { KubeClient } from './client';
import { Informer } from './informer';
import { describeRef, type KubeObject, type ObjectRef } from './resources';

export interface Readiness {
  ready: boolean;
  /** Why not, in words an operator can act on. */
  reason: string;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface WorkloadLike extends KubeObject {
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    conditions?: Condition[];
  };
}

/**
 * A Deployment is ready when the controller has seen its latest spec (observedGeneration), every
 * replica runs the current template (updatedReplicas), all are available, and no old replica is
 * left (status.replicas). A Progressing=False condition means the rollout gave up.
 */
export function deploymentReadiness(deployment: WorkloadLike): Readiness {
  const want = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const generation = deployment.metadata?.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { ready: false, reason: `waiting for the controller to observe generation ${generation}` };
  }
  const stalled = status.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False');
  if (stalled)
    return {
      ready: false,
      reason: `rollout stalled: ${stalled.reason ?? ''} ${stalled.message ?? ''}`.trim(),
    };
  if ((status.updatedReplicas ?? 0) < want) {
    return { ready: false, reason: `${status.updatedReplicas ?? 0} of ${want} replicas updated` };
  }
  if ((status.replicas ?? 0) > (status.updatedReplicas ?? 0)) {
    return {
      ready: false,
      reason: `${(status.replicas ?? 0) - (status.updatedReplicas ?? 0)} old replicas pending termination`,
    };
  }
  if ((status.availableReplicas ?? 0) < want) {
    return { ready: false, reason: `${status.availableReplicas ?? 0} of ${want} replicas available` };
  }
  return { ready: true, reason: `${want} of ${want} replicas ready` };
}

/** A StatefulSet is ready when all replicas are ready and on the update revision. */
export function statefulSetReadiness(statefulSet: WorkloadLike): Readiness {
  const want = statefulSet.spec?.replicas ?? 1;
  const status = statefulSet.status ?? {};
  const generation = statefulSet.metadata?.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { ready: false, reason: `waiting for the controller to observe generation ${generation}` };
  }
  if ((status.readyReplicas ?? 0) < want)
    return { ready: false, reason: `${status.readyReplicas ?? 0} of ${want} replicas ready` };
  if (status.updateRevision && status.currentRevision !== status.updateRevision) {
    return { ready: false, reason: 'rolling update in progress' };
  }
  return { ready: true, reason: `${want} of ${want} replicas ready` };
}

interface PodLike extends KubeObject {
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: Array<{ name?: string; state?: { waiting?: { reason?: string } } }>;
  };
}

export function podReadiness(pod: PodLike): Readiness {
  const phase = pod.status?.phase ?? 'Pending';
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (phase === 'Running' && ready?.status === 'True') return { ready: true, reason: 'Running and Ready' };
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason);
  if (waiting)
    return { ready: false, reason: `container ${waiting.name} waiting: ${waiting.state!.waiting!.reason}` };
  return { ready: false, reason: `phase ${phase}${ready ? `, Ready=${ready.status}` : ''}` };
}

/** Readiness of any workload kind this platform deploys. */
export function readinessOf(object: KubeObject): Readiness {
  switch (object.kind) {
    case 'Deployment':
      return deploymentReadiness(object);
    case 'StatefulSet':
      return statefulSetReadiness(object);
    case 'Pod':
      return podReadiness(object);
    default:
      return { ready: true, reason: `${object.kind} has no readiness` };
  }
}

/**
 * Waits, by watching (not polling), until `predicate` holds for the object; resolves with it.
 * Rejects after `timeoutMs` with the last reason, so the caller can say what is wrong.
 */
export async function waitForObject<T extends KubeObject>(
  client: KubeClient,
  ref: ObjectRef,
  predicate: (object: T | undefined) => Readiness | boolean,
  timeoutMs: number,
): Promise<T | undefined> {
  const informer = new Informer<T>(client, ref.apiVersion, ref.kind, {
    namespace: ref.namespace,
    fieldSelector: `metadata.name=${ref.name}`,
  });
  let lastReason = 'not observed yet';
  const check = (): { done: boolean; object: T | undefined } => {
    const object = informer.get(ref.name, ref.namespace);
    const verdict = predicate(object);
    const done = typeof verdict === 'boolean' ? verdict : verdict.ready;
    if (typeof verdict !== 'boolean') lastReason = verdict.reason;
    return { done, object };
  };
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${describeRef(ref)} in ${client.cluster}: not ready after ${timeoutMs} ms (${lastReason})`,
            ),
          ),
        timeoutMs,
      );
      const evaluate = () => {
        const { done, object } = check();
        if (done) {
          clearTimeout(timer);
          resolve(object);
        }
      };
      informer.on('add', evaluate).on('update', evaluate).on('delete', evaluate);
      informer.start().then(evaluate, (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    await informer.stop();
  }
}

/** Waits until the workload is ready (see readinessOf). */
export function waitForReady<T extends KubeObject>(client: KubeClient, ref: ObjectRef, timeoutMs = 60_000) {
  return waitForObject<T>(
    client,
    ref,
    (object) => (object ? readinessOf(object) : { ready: false, reason: 'does not exist' }),
    timeoutMs,
  );
}
