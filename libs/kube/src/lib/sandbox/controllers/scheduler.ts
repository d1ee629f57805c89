import { ApiError } from '../api-status';
import { clone, deepEqual, getArray, getObject, getString, isObject, type JsonObject } from '../json';
import { timestamp, type StoredObject } from '../object-meta';
import { bindTo } from '../subresources';
import {
  type Controller,
  type ControllerContext,
  keyOf,
  onEvents,
  requireType,
  SCHEDULER,
  splitKey,
  WorkQueue,
} from './controller-kit';

const PODS = '/pods';
const NODES = '/nodes';

interface Taint {
  key?: string;
  value?: string;
  effect?: string;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/**
 * The default scheduler, reduced to its filters that matter here: a pending pod (no nodeName,
 * default scheduler) goes to a schedulable Node (readiness shows as the node lifecycle
 * controller's not-ready/unreachable taints, as in 1.20) that matches its nodeSelector and
 * required node affinity, carries no NoSchedule/NoExecute taint it does not tolerate and has room
 * (status.allocatable.pods); among those, the one with the fewest pods. A pod that fits nowhere
 * gets PodScheduled=False/Unschedulable with the real message shape, and is retried when nodes
 * change.
 */
export class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly queue: WorkQueue;
  private readonly unschedulable = new Set<string>();
  private readonly podsPerNode = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.schedule(key), ctx.onError);
  }

  start(): void {
    for (const pod of this.ctx.store.list(PODS)) this.count(pod, 1);
    this.unsubscribe = onEvents(this.ctx.store, [PODS, NODES], (event) => {
      if (event.typeId === NODES) {
        for (const key of this.unschedulable) this.queue.add(key);
        return;
      }
      if (event.previous) this.count(event.previous, -1);
      if (event.type !== 'DELETED') {
        this.count(event.object, 1);
        if (needsScheduling(event.object)) this.queue.add(keyOf(event.object));
      } else {
        this.unschedulable.delete(keyOf(event.object));
        // A freed slot may fit a waiting pod.
        for (const key of this.unschedulable) this.queue.add(key);
      }
    });
    for (const pod of this.ctx.store.list(PODS)) if (needsScheduling(pod)) this.queue.add(keyOf(pod));
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private count(pod: StoredObject, delta: number): void {
    const node = getString(pod, ['spec', 'nodeName']);
    const phase = getString(pod, ['status', 'phase']);
    if (!node || phase === 'Succeeded' || phase === 'Failed') return;
    this.podsPerNode.set(node, (this.podsPerNode.get(node) ?? 0) + delta);
  }

  private schedule(key: string): void {
    const { namespace, name } = splitKey(key);
    const pod = this.ctx.store.get(PODS, namespace, name);
    if (!pod || !needsScheduling(pod)) {
      this.unschedulable.delete(key);
      return;
    }
    const nodes = this.ctx.store.list(NODES);
    const reasons = new Map<string, number>();
    const fits: StoredObject[] = [];
    for (const node of nodes) {
      const why = this.misfit(pod, node);
      if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
      else fits.push(node);
    }
    const podType = requireType(this.ctx.registry, PODS);
    if (fits.length === 0) {
      this.unschedulable.add(key);
      const detail = [...reasons.entries()]
        .map(([why, n]) => `${n} ${why}`)
        .sort()
        .join(', ');
      this.markUnschedulable(
        podType,
        pod,
        `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ''}.`,
      );
      return;
    }
    this.unschedulable.delete(key);
    const best = fits.sort(
      (a, b) =>
        (this.podsPerNode.get(a.metadata.name ?? '') ?? 0) -
          (this.podsPerNode.get(b.metadata.name ?? '') ?? 0) ||
        ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1),
    )[0];
    bindTo(this.ctx.storage, podType, pod, best.metadata.name ?? '');
  }

  /** Why a node does not fit the pod (the real filter messages), or undefined when it fits. */
  private misfit(pod: StoredObject, node: StoredObject): string | undefined {
    if (node.metadata.deletionTimestamp) return 'node(s) were being deleted';
    if (getObject(node, ['spec'])?.['unschedulable'] === true) return 'node(s) were unschedulable';
    const tolerations = (getArray(pod, ['spec', 'tolerations']) ?? []).filter(isObject) as Toleration[];
    for (const taint of (getArray(node, ['spec', 'taints']) ?? []).filter(isObject) as Taint[]) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tolerations.some((t) => tolerates(t, taint))) {
        return `node(s) had taint {${taint.key ?? ''}: ${taint.value ?? ''}}, that the pod didn't tolerate`;
      }
    }
    const labels = node.metadata.labels ?? {};
    const selector = getObject(pod, ['spec', 'nodeSelector']) ?? {};
    for (const [key, value] of Object.entries(selector))
      if (labels[key] !== value) return "node(s) didn't match node selector";
    const terms = getArray(pod, [
      'spec',
      'affinity',
      'nodeAffinity',
      'requiredDuringSchedulingIgnoredDuringExecution',
      'nodeSelectorTerms',
    ]);
    if (terms && terms.length > 0 && !terms.some((term) => termMatches(term, node)))
      return "node(s) didn't match node selector";
    const capacity = Number(getString(node, ['status', 'allocatable', 'pods']) ?? NaN);
    if (Number.isFinite(capacity) && (this.podsPerNode.get(node.metadata.name ?? '') ?? 0) >= capacity)
      return 'Too many pods';
    return undefined;
  }

  private markUnschedulable(
    podType: ReturnType<typeof requireType>,
    pod: StoredObject,
    message: string,
  ): void {
    const status = clone(getObject(pod, ['status']) ?? {});
    const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []).filter(
      isObject,
    ) as JsonObject[];
    const previous = conditions.find((c) => c['type'] === 'PodScheduled');
    if (previous && previous['status'] === 'False' && previous['message'] === message) return;
    const condition: JsonObject = {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime:
        previous?.['status'] === 'False' ? (previous['lastTransitionTime'] as string) : timestamp(),
      reason: 'Unschedulable',
      message,
    };
    status['conditions'] = [...conditions.filter((c) => c['type'] !== 'PodScheduled'), condition];
    if (deepEqual(status, pod['status'])) return;
    try {
      this.ctx.storage.commitUpdate(
        podType,
        pod,
        { ...clone(pod), status },
        { ...SCHEDULER, subresource: 'status' },
      );
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 404) throw error;
    }
  }
}

function needsScheduling(pod: StoredObject): boolean {
  const scheduler = getString(pod, ['spec', 'schedulerName']) ?? 'default-scheduler';
  return (
    !getString(pod, ['spec', 'nodeName']) &&
    !pod.metadata.deletionTimestamp &&
    scheduler === 'default-scheduler'
  );
}

function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** One nodeSelectorTerm: all of its matchExpressions (labels) and matchFields (metadata.name). */
function termMatches(term: unknown, node: StoredObject): boolean {
  if (!isObject(term)) return false;
  const labels = node.metadata.labels ?? {};
  const expressions = (getArray(term, ['matchExpressions']) ?? []).filter(isObject);
  const fields = (getArray(term, ['matchFields']) ?? []).filter(isObject);
  if (expressions.length === 0 && fields.length === 0) return false;
  const check = (e: JsonObject, actual: string | undefined): boolean => {
    const values = (Array.isArray(e['values']) ? e['values'] : []).map(String);
    switch (e['operator']) {
      case 'In':
        return actual !== undefined && values.includes(actual);
      case 'NotIn':
        return actual === undefined || !values.includes(actual);
      case 'Exists':
        return actual !== undefined;
      case 'DoesNotExist':
        return actual === undefined;
      case 'Gt':
        return actual !== undefined && Number(actual) > Number(values[0]);
      case 'Lt':
        return actual !== undefined && Number(actual) < Number(values[0]);
      default:
        return false;
    }
  };
  return (
    expressions.every((e) => check(e, typeof e['key'] === 'string' ? labels[e['key']] : undefined)) &&
    fields.every((f) => check(f, f['key'] === 'metadata.name' ? node.metadata.name : undefined))
  );
}
