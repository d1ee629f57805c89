import { errors, successStatus, type StatusBody } from './api-status';
import { Admission } from './admission';
import { decodeContinue, encodeContinue } from './continue-token';
import { applyDefaults, prepareForCreate } from './defaults';
import { prune, undeclaredField } from './field-schema';
import { clone, deepEqual, getNumber, getString, isObject, type JsonObject } from './json';
import {
  decodeManagedFields,
  encodeManagedFields,
  recordUpdate,
  type Manager,
  type OwnershipContext,
} from './managed-fields';
import { asStored, canonicalOrder, newUid, randomSuffix, timestamp, type StoredObject } from './object-meta';
import type { ObjectStore } from './object-store';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch';
import type { ResourceRegistry } from './resource-registry';
import { groupResource, type ResourceType } from './resource-types';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { serverSideApply } from './server-side-apply';
import { generationChanges, sameContent, statusUpdate } from './update-rules';
import { validateObject } from './validation';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface WriteOptions {
  /** Field manager for managedFields (the fieldManager parameter or the client's user agent). */
  manager: string;
  /** dryRun=All: run everything, persist nothing. */
  dryRun?: boolean;
  /** Writes through `/status` change only the status; `/finalize` only a namespace's spec.finalizers. */
  subresource?: 'status' | 'finalize';
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
}

export interface StorageOptions {
  /** Fault injection: a create of an existing name replaces it (201) instead of 409. */
  acceptConflictingCreate: boolean;
  /** Pods bound to a node stay Terminating until deleted again with grace 0 (a kubelet's job). */
  gracefulPodDeletion: boolean;
  /**
   * ServiceAccount admission: a pod's service account must exist and its token is mounted. On when
   * the controllers run (they create the accounts and tokens); off, pods are taken as they are.
   */
  serviceAccounts: boolean;
}

const STATUS_ONLY = 'status';
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/**
 * The registry semantics of kube-apiserver over the object store: create, update, patch (merge,
 * JSON, strategic, server-side apply), delete with finalizers and propagation, the status
 * subresource, defaulting, validation, generation and managedFields. The HTTP layer and the
 * in-process controllers both go through here, so controllers' writes look like a real
 * controller-manager's.
 */
export class ApiStorage {
  private readonly admission: Admission;

  constructor(
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
    private readonly options: StorageOptions,
  ) {
    this.admission = new Admission(store);
  }

  // ---- reads ---------------------------------------------------------------------------------

  get(type: ResourceType, namespace: string, name: string): StoredObject {
    const found = this.store.get(type.id, type.namespaced ? namespace : '', name);
    if (!found) throw errors.notFound(groupResource(type), name);
    return found;
  }

  find(type: ResourceType, namespace: string, name: string): StoredObject | undefined {
    return this.store.get(type.id, type.namespaced ? namespace : '', name);
  }

  list(
    type: ResourceType,
    namespace: string | undefined,
    options: ListOptions = {},
  ): { items: StoredObject[]; resourceVersion: string; continueToken?: string; remaining?: number } {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector, type.id);
    let items = this.store.list(type.id, type.namespaced ? namespace : undefined);
    if (labels.length > 0) items = items.filter((o) => matchesLabels(labels, o.metadata.labels));
    if (fields.length > 0) items = items.filter((o) => matchesFields(fields, o, type.id));
    let resourceVersion = String(this.store.resourceVersion);
    if (options.continueToken) {
      const token = decodeContinue(options.continueToken);
      resourceVersion = token.resourceVersion;
      // The continue key is the last (namespace, name) served; the store lists in that order.
      const [afterNamespace, afterName] = token.after.split('/');
      items = items.filter((o) => {
        const ns = o.metadata.namespace ?? '';
        return ns > afterNamespace || (ns === afterNamespace && (o.metadata.name ?? '') > (afterName ?? ''));
      });
    }
    if (options.limit && options.limit > 0 && items.length > options.limit) {
      const page = items.slice(0, options.limit);
      const last = page[page.length - 1];
      return {
        items: page,
        resourceVersion,
        continueToken: encodeContinue(
          resourceVersion,
          `${last.metadata.namespace ?? ''}/${last.metadata.name}`,
        ),
        remaining: items.length - page.length,
      };
    }
    return { items, resourceVersion };
  }

  // ---- create --------------------------------------------------------------------------------

  create(
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
    options: WriteOptions,
  ): StoredObject {
    const object = this.decodeBody(type, body, namespace);
    return this.commitCreate(type, object, options);
  }

  private commitCreate(
    type: ResourceType,
    object: StoredObject,
    options: WriteOptions,
    managers?: Manager[],
  ): StoredObject {
    const meta = object.metadata;
    if (type.namespaced)
      this.checkNamespaceAcceptsContent(type, meta.namespace ?? '', meta.name ?? meta.generateName ?? '');
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    const now = timestamp();
    meta.uid = newUid();
    meta.creationTimestamp = now;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (type.generation === 'none') delete meta.generation;
    else meta.generation = 1;
    this.pruneUnknown(type, object);
    applyDefaults(type, object, true);
    // Ownership is taken on the decoded, defaulted object, before admission and the create
    // strategy add their own fields (service account, initial status …), as in the real server.
    delete meta.managedFields;
    const tracked =
      managers ??
      recordUpdate(
        undefined,
        object,
        [],
        { manager: options.manager, apiVersion: type.apiVersion },
        this.ownership(type, now),
      );
    prepareForCreate(type, object);
    if (type.id === '/services') this.admission.clusterIP(object);
    if (type.id === '/pods') {
      this.admission.nodeSelector(object);
      if (this.options.serviceAccounts) this.admission.serviceAccount(object);
    }

    const causes = validateObject(type, object);
    if (causes.length > 0) throw errors.invalid(type.kind, type.group, meta.name ?? '', causes);

    const existing = this.store.get(type.id, meta.namespace ?? '', meta.name ?? '');
    if (existing && !this.options.acceptConflictingCreate)
      throw errors.alreadyExists(groupResource(type), meta.name ?? '');

    const encoded = encodeManagedFields(tracked);
    if (encoded.length > 0) meta.managedFields = encoded;
    const stored = canonicalOrder(object);
    if (options.dryRun)
      return {
        ...stored,
        metadata: { ...stored.metadata, resourceVersion: String(this.store.resourceVersion) },
      };
    return this.store.put(type.id, stored);
  }

  private checkNamespaceAcceptsContent(type: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get('/namespaces', '', namespace);
    if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp) {
      throw errors.forbidden(
        groupResource(type),
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${namespace} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      );
    }
  }

  // ---- update --------------------------------------------------------------------------------

  /** PUT. Returns whether it created the object (kinds that allow create on update). */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions,
  ): { object: StoredObject; created: boolean } {
    const object = this.decodeBody(type, body, namespace);
    if (object.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    const existing = this.find(type, namespace ?? '', name);
    if (!existing) {
      if (type.allowCreateOnUpdate && !options.subresource)
        return { object: this.commitCreate(type, object, options), created: true };
      throw errors.notFound(groupResource(type), name);
    }
    this.checkResourceVersion(type, existing, object.metadata.resourceVersion);
    return { object: this.commitUpdate(type, existing, object, options), created: false };
  }

  private checkResourceVersion(
    type: ResourceType,
    existing: StoredObject,
    requested: string | undefined,
  ): void {
    if (requested !== undefined && requested !== '' && requested !== existing.metadata.resourceVersion) {
      throw errors.staleResourceVersion(groupResource(type), existing.metadata.name ?? '');
    }
  }

  /**
   * The common tail of every update: keep identity and (through the main resource) status, default,
   * bump generation, validate, track managed fields, skip no-ops, and complete a deletion whose
   * last finalizer just went.
   */
  commitUpdate(
    type: ResourceType,
    old: StoredObject,
    requested: StoredObject,
    options: WriteOptions,
    managers?: Manager[],
  ): StoredObject {
    let next: StoredObject;
    if (options.subresource === STATUS_ONLY) {
      next = statusUpdate(type, old, requested);
    } else {
      next = clone(requested);
      if (type.statusSubresource) {
        if (old['status'] === undefined) delete next['status'];
        else next['status'] = clone(old['status']);
      }
    }
    const meta = next.metadata;
    const oldMeta = old.metadata;
    meta.name = oldMeta.name;
    if (type.namespaced) meta.namespace = oldMeta.namespace;
    else delete meta.namespace;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.resourceVersion = oldMeta.resourceVersion;
    if (oldMeta.deletionTimestamp) {
      meta.deletionTimestamp = oldMeta.deletionTimestamp;
      meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete meta.selfLink;
    if (type.id === '/namespaces' && options.subresource !== 'finalize') {
      // Only namespaces/finalize changes spec.finalizers (the namespace update strategy).
      const spec = isObject(next['spec']) ? next['spec'] : (next['spec'] = {});
      const kept = isObject(old['spec']) ? old['spec']['finalizers'] : undefined;
      if (kept === undefined) delete spec['finalizers'];
      else spec['finalizers'] = clone(kept);
    }
    if (options.subresource !== STATUS_ONLY) this.pruneUnknown(type, next);
    applyDefaults(type, next, false);
    meta.generation = oldMeta.generation;
    if (meta.generation === undefined) delete meta.generation;
    else if (options.subresource !== STATUS_ONLY && generationChanges(type, old, next))
      meta.generation = (oldMeta.generation ?? 0) + 1;

    const causes = validateObject(type, next, old);
    if (causes.length > 0) throw errors.invalid(type.kind, type.group, meta.name ?? '', causes);

    const context = this.ownership(type, timestamp());
    const before = decodeManagedFields(oldMeta.managedFields);
    const tracked =
      managers ??
      recordUpdate(old, next, before, { manager: options.manager, apiVersion: type.apiVersion }, context);
    const encoded = encodeManagedFields(tracked);
    if (encoded.length > 0) meta.managedFields = encoded;
    else delete meta.managedFields;

    if (sameContent(old, next)) return old;
    const stored = canonicalOrder(next);
    if (options.dryRun) return stored;
    if (meta.deletionTimestamp && this.finalizersDone(type, stored)) {
      // The last finalizer went: the object goes now. Watchers get DELETED with the last stored state.
      this.store.remove(type.id, meta.namespace ?? '', meta.name ?? '');
      return stored;
    }
    return this.store.put(type.id, stored);
  }

  private finalizersDone(type: ResourceType, object: StoredObject): boolean {
    if ((object.metadata.finalizers ?? []).length > 0) return false;
    if (type.id === '/namespaces') {
      const specFinalizers = isObject(object['spec']) ? object['spec']['finalizers'] : undefined;
      return !Array.isArray(specFinalizers) || specFinalizers.length === 0;
    }
    return true;
  }

  // ---- patch ---------------------------------------------------------------------------------

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    body: unknown,
    options: WriteOptions & { force?: boolean },
  ): { object: StoredObject; created: boolean } {
    if (patchType === 'apply') return this.apply(type, namespace, name, body, options);
    const existing = this.get(type, namespace ?? '', name);
    const patched = asStored(this.patchDocument(type, existing, patchType, body));
    if (!patched) throw errors.badRequest('the patched object is not a Kubernetes object');
    if (patched.metadata.name !== undefined && patched.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    this.checkResourceVersion(type, existing, patched.metadata.resourceVersion);
    return { object: this.commitUpdate(type, existing, patched, options), created: false };
  }

  /** Applies a merge/JSON/strategic patch document to any JSON (objects, Scale views). */
  patchDocument(
    type: ResourceType,
    target: unknown,
    patchType: Exclude<PatchType, 'apply'>,
    body: unknown,
  ): unknown {
    try {
      switch (patchType) {
        case 'merge':
          return mergePatch(target, body);
        case 'json':
          return jsonPatch(target, body);
        case 'strategic':
          if (type.custom) {
            throw errors.unsupportedMediaType(
              'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
            );
          }
          return strategicMergePatch(target, body, this.registry.schemaOf(type));
      }
    } catch (error) {
      if (error instanceof PatchError) {
        throw error.kind === 'invalid' ? errors.invalidRequest() : errors.internal(error.message);
      }
      throw error;
    }
  }

  private apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions & { force?: boolean },
  ): { object: StoredObject; created: boolean } {
    const config = asStored(body);
    if (!config) throw errors.badRequest('the applied configuration must be an object with metadata');
    if (config.apiVersion !== type.apiVersion || config.kind !== type.kind) {
      throw errors.badRequest(
        `the API version in the data (${config.apiVersion ?? ''}) does not match the expected API version (${type.apiVersion})`,
      );
    }
    if (!config.metadata.name) {
      throw errors.badRequest(
        `the name of the object (${name} based on URL) was undeterminable: name must be provided`,
      );
    }
    if (config.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (type.namespaced) {
      if (config.metadata.namespace !== undefined && config.metadata.namespace !== namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      config.metadata.namespace = namespace;
    }
    for (const key of Object.keys(config)) {
      if (
        type.fields &&
        key !== 'apiVersion' &&
        key !== 'kind' &&
        key !== 'metadata' &&
        !type.fields.includes(key)
      ) {
        throw errors.typedPatch(`.${key}: field not declared in schema`);
      }
    }
    if (type.custom?.schema) {
      const schema = this.registry.schemaOf(type);
      for (const [key, value] of Object.entries(config)) {
        if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
        const field = schema.fields?.[key];
        const undeclared = field
          ? undeclaredField(value, field, `.${key}`)
          : schema.preserveUnknown
            ? undefined
            : `.${key}`;
        if (undeclared) throw errors.typedPatch(`${undeclared}: field not declared in schema`);
      }
    }
    const ignoredTopLevel: string[] = [];
    if (options.subresource === STATUS_ONLY) {
      for (const key of Object.keys(config))
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) delete config[key];
      config.metadata = { name: config.metadata.name, namespace: config.metadata.namespace };
    } else if (type.statusSubresource) {
      delete config['status'];
      ignoredTopLevel.push('status');
    }
    const existing = this.find(type, namespace ?? '', name);
    if (existing) this.checkResourceVersion(type, existing, config.metadata.resourceVersion);
    else if (options.subresource) throw errors.notFound(groupResource(type), name);
    const now = timestamp();
    const applied = serverSideApply({
      live: existing as JsonObject | undefined,
      managers: decodeManagedFields(existing?.metadata.managedFields),
      config: config as JsonObject,
      manager: options.manager,
      apiVersion: type.apiVersion,
      force: options.force ?? false,
      context: { ...this.ownership(type, now), ignoredTopLevel },
    });
    const merged = asStored(applied.object);
    if (!merged) throw errors.internal('apply produced an object without metadata');
    if (!existing)
      return { object: this.commitCreate(type, merged, options, applied.managers), created: true };
    return { object: this.commitUpdate(type, existing, merged, options, applied.managers), created: false };
  }

  // ---- delete --------------------------------------------------------------------------------

  /**
   * DELETE: objects with finalizers (or asked for Foreground/Orphan propagation) get a
   * deletionTimestamp and stay until their finalizers are gone; others go at once. Dependents are
   * the garbage collector's business.
   */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
  ): { object: StoredObject; deleted: boolean } {
    const existing = this.get(type, namespace ?? '', name);
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) {
      throw errors.conflict(
        groupResource(type),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw errors.conflict(
        groupResource(type),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`,
      );
    }
    if (options.dryRun) return { object: existing, deleted: false };

    const next = clone(existing);
    const meta = next.metadata;
    const finalizers = [...(meta.finalizers ?? [])];
    if (type.id === '/namespaces') {
      if (meta.deletionTimestamp) return { object: existing, deleted: false };
      meta.deletionTimestamp = timestamp();
      next['status'] = { ...(isObject(next['status']) ? next['status'] : {}), phase: 'Terminating' };
      if (!this.finalizersDone(type, next))
        return { object: this.store.put(type.id, canonicalOrder(next)), deleted: false };
    }

    if (type.id === '/pods' && this.options.gracefulPodDeletion) {
      const grace =
        options.gracePeriodSeconds ?? getNumber(next, ['spec', 'terminationGracePeriodSeconds']) ?? 30;
      const nodeName = getString(next, ['spec', 'nodeName']);
      // A pod on a node is gone only once its kubelet (here the node simulator) confirms with grace 0.
      if (meta.deletionTimestamp && grace > 0) return { object: existing, deleted: false };
      if (meta.deletionTimestamp && finalizers.length === 0) {
        // The confirmation: the grace period drops to 0 (a MODIFIED event), then the pod goes.
        meta.deletionTimestamp = timestamp();
        meta.deletionGracePeriodSeconds = 0;
        this.store.put(type.id, canonicalOrder(next));
        const removed = this.store.remove(type.id, meta.namespace ?? '', name);
        return { object: removed ?? next, deleted: true };
      }
      if (nodeName && grace > 0) {
        meta.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000));
        meta.deletionGracePeriodSeconds = grace;
        return { object: this.store.put(type.id, canonicalOrder(next)), deleted: false };
      }
    }

    if (type.id === 'apiextensions.k8s.io/customresourcedefinitions') {
      // The CRD registry's own delete: cleanup finalizer and Terminating condition, no grace
      // period, no generation bump; the CRD controller then removes the custom resources.
      if (meta.deletionTimestamp) return { object: existing, deleted: false };
      meta.deletionTimestamp = timestamp();
      if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) finalizers.push(CRD_CLEANUP_FINALIZER);
      meta.finalizers = finalizers;
      const status = isObject(next['status']) ? next['status'] : {};
      const conditions = Array.isArray(status['conditions'])
        ? status['conditions'].filter((c) => !isObject(c) || c['type'] !== 'Terminating')
        : [];
      next['status'] = {
        ...status,
        conditions: [
          ...conditions,
          {
            type: 'Terminating',
            status: 'True',
            lastTransitionTime: meta.deletionTimestamp,
            reason: 'InstanceDeletionPending',
            message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
          },
        ],
      };
      return { object: this.store.put(type.id, canonicalOrder(next)), deleted: false };
    }
    if (options.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion'))
      finalizers.push('foregroundDeletion');
    if (options.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    if (finalizers.length > 0) {
      if (meta.deletionTimestamp && deepEqual(finalizers, meta.finalizers ?? []))
        return { object: existing, deleted: false };
      if (!meta.deletionTimestamp) {
        meta.deletionTimestamp = timestamp();
        meta.deletionGracePeriodSeconds = 0;
        if (meta.generation !== undefined) meta.generation += 1;
      }
      meta.finalizers = finalizers;
      return { object: this.store.put(type.id, canonicalOrder(next)), deleted: false };
    }
    const removed = this.store.remove(type.id, meta.namespace ?? '', name);
    return { object: removed ?? existing, deleted: true };
  }

  /** The DELETE response body: the object, or a success Status for kinds that answer so. */
  deleteResponse(
    type: ResourceType,
    result: { object: StoredObject; deleted: boolean },
  ): StoredObject | StatusBody {
    if (!result.deleted || type.deleteReturnsObject) return result.object;
    const details = {
      name: result.object.metadata.name ?? '',
      kind: type.plural,
      uid: result.object.metadata.uid ?? '',
    };
    return successStatus(
      type.group ? { name: details.name, group: type.group, kind: details.kind, uid: details.uid } : details,
    );
  }

  // ---- helpers -------------------------------------------------------------------------------

  ownership(type: ResourceType, now: string): OwnershipContext {
    return {
      schema: this.registry.schemaOf(type),
      unstructured: type.custom !== undefined,
      ignoredTopLevel: [],
      now,
    };
  }

  /** Checks a request body is an object of this endpoint's kind, in this namespace. */
  decodeBody(type: ResourceType, body: unknown, namespace: string | undefined): StoredObject {
    if (!isObject(body)) throw errors.badRequest('the request body must be a JSON object');
    const object = clone(body) as StoredObject;
    if (!isObject(object.metadata)) object.metadata = {};
    if (object.apiVersion !== undefined && object.apiVersion !== type.apiVersion) {
      throw errors.badRequest(
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${type.apiVersion})`,
      );
    }
    if (object.kind !== undefined && object.kind !== type.kind) {
      throw errors.badRequest(
        `the kind in the data (${String(object.kind)}) does not match the expected kind (${type.kind})`,
      );
    }
    if (type.custom && (object.apiVersion === undefined || object.kind === undefined)) {
      throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    }
    object.apiVersion = type.apiVersion;
    object.kind = type.kind;
    if (type.namespaced) {
      if (
        object.metadata.namespace !== undefined &&
        object.metadata.namespace !== '' &&
        object.metadata.namespace !== namespace
      ) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      object.metadata.namespace = namespace;
    } else {
      delete object.metadata.namespace;
    }
    return object;
  }

  /** Drops what the kind does not have: unknown top-level fields, or what a CRD schema prunes. */
  private pruneUnknown(type: ResourceType, object: StoredObject): void {
    if (type.fields) {
      for (const key of Object.keys(object)) {
        if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata' && !type.fields.includes(key))
          delete object[key];
      }
      return;
    }
    if (!type.custom?.schema) return;
    const schema = this.registry.schemaOf(type);
    for (const key of Object.keys(object)) {
      if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
      const field = schema.fields?.[key];
      if (!field && !schema.preserveUnknown) delete object[key];
      else if (field) object[key] = prune(object[key], field);
    }
  }

  /**
   * The PodNodeSelector admission plugin (enabled on the real bench): the namespace's
   * `scheduler.alpha.kubernetes.io/node-selector` joins the pod's nodeSelector.
   */
}
