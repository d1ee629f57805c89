import { ApiError } from '../api-status';
import { clone, deepEqual, getObject } from '../json';
import { timestamp, type StoredObject } from '../object-meta';
import type { ResourceType } from '../resource-types';
import { finalizeNamespace } from '../subresources';
import {
  CONTROLLER_MANAGER,
  type Controller,
  type ControllerContext,
  requireType,
  WorkQueue,
} from './controller-kit';

const NAMESPACES = '/namespaces';

/**
 * Namespace deletion, as kube-controller-manager's namespace controller does it: a Terminating
 * namespace has its content deleted, reports what remains in its status conditions while
 * finalizers hold objects, and is finalized (then removed) once empty.
 */
export class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  private readonly queue: WorkQueue;
  private readonly terminating = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (name) => this.sync(name), ctx.onError);
  }

  start(): void {
    this.unsubscribe = this.ctx.store.subscribe((event) => {
      if (event.typeId === NAMESPACES) {
        if (event.type !== 'DELETED') this.queue.add(event.object.metadata.name ?? '');
        else this.terminating.delete(event.object.metadata.name ?? '');
        return;
      }
      const namespace = event.object.metadata.namespace;
      if (
        namespace &&
        this.terminating.has(namespace) &&
        (event.type === 'DELETED' || event.type === 'MODIFIED')
      ) {
        this.queue.add(namespace);
      }
    });
    for (const ns of this.ctx.store.list(NAMESPACES)) this.queue.add(ns.metadata.name ?? '');
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(name: string): void {
    const ns = this.ctx.store.get(NAMESPACES, '', name);
    if (!ns) return;
    if (ns.metadata.deletionTimestamp) {
      this.terminating.add(name);
      this.drain(ns);
    }
  }

  private namespacedTypes(): ResourceType[] {
    const seen = new Set<string>();
    return this.ctx.registry.all().filter((t) => t.namespaced && !seen.has(t.id) && seen.add(t.id));
  }

  private drain(ns: StoredObject): void {
    const namespace = ns.metadata.name ?? '';
    const remaining: Array<{ type: ResourceType; count: number }> = [];
    const finalizers = new Map<string, number>();
    for (const type of this.namespacedTypes()) {
      const objects = this.ctx.store.list(type.id, namespace);
      if (objects.length === 0) continue;
      for (const object of objects) {
        if (!object.metadata.deletionTimestamp) {
          try {
            this.ctx.storage.delete(type, namespace, object.metadata.name ?? '', {
              propagationPolicy: 'Background',
            });
          } catch (error) {
            if (!(error instanceof ApiError) || error.code !== 404) throw error;
          }
        }
      }
      const left = this.ctx.store.list(type.id, namespace);
      if (left.length > 0) remaining.push({ type, count: left.length });
      for (const object of left)
        for (const f of object.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    const namespaceType = requireType(this.ctx.registry, NAMESPACES);
    if (remaining.length === 0) {
      const current = this.ctx.store.get(NAMESPACES, '', namespace);
      const specFinalizers = (getObject(current, ['spec'])?.['finalizers'] as string[] | undefined) ?? [];
      if (current && specFinalizers.includes('kubernetes')) {
        finalizeNamespace(
          this.ctx.storage,
          namespaceType,
          namespace,
          { spec: { finalizers: specFinalizers.filter((f) => f !== 'kubernetes') } },
          CONTROLLER_MANAGER,
        );
      }
      return;
    }
    this.reportRemaining(namespaceType, namespace, remaining, finalizers);
  }

  /** The conditions the real namespace controller sets while content is held by finalizers. */
  private reportRemaining(
    namespaceType: ResourceType,
    namespace: string,
    remaining: Array<{ type: ResourceType; count: number }>,
    finalizers: Map<string, number>,
  ): void {
    const ns = this.ctx.store.get(NAMESPACES, '', namespace);
    if (!ns) return;
    const status = clone(getObject(ns, ['status']) ?? {});
    const previous = Array.isArray(status['conditions'])
      ? (status['conditions'] as Array<Record<string, unknown>>)
      : [];
    const now = timestamp();
    const make = (type: string, value: string, reason: string, message: string) => {
      const old = previous.find((c) => c['type'] === type);
      const same = old?.['status'] === value;
      return {
        type,
        status: value,
        lastTransitionTime: same ? old?.['lastTransitionTime'] : now,
        reason,
        message,
      };
    };
    const resources = remaining
      .map(({ type, count }) => `${type.plural}.${type.group} has ${count} resource instances`)
      .sort()
      .join(', ');
    const held = [...finalizers.entries()]
      .map(([f, n]) => `${f} in ${n} resource instances`)
      .sort()
      .join(', ');
    status['conditions'] = [
      make(
        'NamespaceDeletionDiscoveryFailure',
        'False',
        'ResourcesDiscovered',
        'All resources successfully discovered',
      ),
      make(
        'NamespaceDeletionGroupVersionParsingFailure',
        'False',
        'ParsedGroupVersions',
        'All legacy kube types successfully parsed',
      ),
      make(
        'NamespaceDeletionContentFailure',
        'False',
        'ContentDeleted',
        'All content successfully deleted, may be waiting on finalization',
      ),
      make(
        'NamespaceContentRemaining',
        'True',
        'SomeResourcesRemain',
        `Some resources are remaining: ${resources}`,
      ),
      held
        ? make(
            'NamespaceFinalizersRemaining',
            'True',
            'SomeFinalizersRemain',
            `Some content in the namespace has finalizers remaining: ${held}`,
          )
        : make(
            'NamespaceFinalizersRemaining',
            'False',
            'ContentHasNoFinalizers',
            'All content-preserving finalizers finished',
          ),
    ];
    status['phase'] = 'Terminating';
    if (deepEqual(status, ns['status'])) return;
    this.ctx.storage.commitUpdate(
      namespaceType,
      ns,
      { ...clone(ns), status },
      { ...CONTROLLER_MANAGER, subresource: 'status' },
    );
  }
}
