import { NOT_READY_TAINT } from '../defaults';
import { clone, deepEqual, getArray, isObject, type JsonObject } from '../json';
import type { StoredObject } from '../object-meta';
import {
  CONTROLLER_MANAGER,
  type Controller,
  type ControllerContext,
  keyOf,
  onEvents,
  requireType,
  splitKey,
  WorkQueue,
} from './controller-kit';

const NODES = '/nodes';
const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
const TTL_ANNOTATION = 'node.alpha.kubernetes.io/ttl';

/**
 * The node lifecycle controller's NoSchedule tainting pass (and the TTL controller's annotation):
 * a node's Ready condition decides its condition taint — False: `not-ready`, Unknown:
 * `unreachable`, True or no Ready condition at all: none (so the `not-ready` taint every node gets
 * at registration goes as soon as the controller sees it, as in 1.20). No NoExecute taints, no
 * evictions.
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = onEvents(this.ctx.store, [NODES], (event) => {
      if (event.type !== 'DELETED') this.queue.add(keyOf(event.object));
    });
    for (const node of this.ctx.store.list(NODES)) this.queue.add(keyOf(node));
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(key: string): void {
    const { name } = splitKey(key);
    const node = this.ctx.store.get(NODES, '', name);
    if (!node || node.metadata.deletionTimestamp) return;
    const ready = readyStatus(node);
    const wanted = ready === 'False' ? NOT_READY_TAINT : ready === 'Unknown' ? UNREACHABLE_TAINT : undefined;
    const taints = (getArray(node, ['spec', 'taints']) ?? []).filter(isObject);
    const isConditionTaint = (t: JsonObject) =>
      t['effect'] === 'NoSchedule' && (t['key'] === NOT_READY_TAINT || t['key'] === UNREACHABLE_TAINT);
    const next: JsonObject[] = taints.filter((t) => !isConditionTaint(t) || t['key'] === wanted);
    if (wanted && !next.some((t) => isConditionTaint(t))) next.push({ key: wanted, effect: 'NoSchedule' });
    const annotations = node.metadata.annotations ?? {};
    if (deepEqual(next, taints) && annotations[TTL_ANNOTATION] !== undefined) return;

    const updated = clone(node);
    updated.metadata.annotations = { ...annotations, [TTL_ANNOTATION]: annotations[TTL_ANNOTATION] ?? '0' };
    const spec = { ...((updated['spec'] as JsonObject | undefined) ?? {}) };
    if (next.length > 0) spec['taints'] = next;
    else delete spec['taints'];
    updated['spec'] = spec;
    this.ctx.storage.commitUpdate(requireType(this.ctx.registry, NODES), node, updated, CONTROLLER_MANAGER);
  }
}

function readyStatus(node: StoredObject): string | undefined {
  const ready = (getArray(node, ['status', 'conditions']) ?? [])
    .filter(isObject)
    .find((c) => c['type'] === 'Ready');
  return ready && typeof ready['status'] === 'string' ? ready['status'] : undefined;
}
