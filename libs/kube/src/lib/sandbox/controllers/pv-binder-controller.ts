import { clone, deepEqual, getArray, getObject, getString, type JsonObject } from '../json';
import type { StoredObject } from '../object-meta';
import type { ResourceType } from '../resource-types';
import { fromLabelSelectorObject, matchesLabels } from '../selectors';
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

const VOLUMES = '/persistentvolumes';
const CLAIMS = '/persistentvolumeclaims';
const STORAGE_CLASSES = 'storage.k8s.io/storageclasses';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
const STATUS_WRITE = { ...CONTROLLER_MANAGER, subresource: 'status' as const };

/**
 * kube-controller-manager's persistentvolume-binder (1.20 `pv_controller.go`), static binding only:
 * a claim gets the volume it names (`spec.volumeName`) or the smallest Available volume that
 * satisfies it (class, size, access and volume modes, selector); a volume pre-bound by `claimRef`
 * is bound to that claim. Binding writes what the real one writes, in the same order: the volume's
 * full `claimRef` (uid, resourceVersion), its phase Bound, the claim's `volumeName` and annotations,
 * then the claim's status (phase, access modes, capacity). A volume whose claim is gone is Released
 * (nothing is reclaimed: Retain); a bound claim whose volume is gone is Lost. No dynamic
 * provisioning: a claim nothing satisfies stays Pending. Unlike the real controller, which only
 * retries unbound claims on its periodic resync (15 s), claims are re-examined as soon as a volume
 * changes.
 */
export class PersistentVolumeBinder implements Controller {
  readonly name = 'persistentvolume-binder-controller';
  private readonly volumeQueue: WorkQueue;
  private readonly claimQueue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.volumeQueue = new WorkQueue(`${this.name} (volumes)`, (key) => this.syncVolume(key), ctx.onError);
    this.claimQueue = new WorkQueue(`${this.name} (claims)`, (key) => this.syncClaim(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = onEvents(this.ctx.store, [VOLUMES, CLAIMS, STORAGE_CLASSES], (event) => {
      if (event.typeId === VOLUMES) {
        if (event.type === 'DELETED') {
          // deleteVolume: the claim it pointed at may now be Lost.
          const claimKey = claimRefKey(event.object);
          if (claimKey) this.claimQueue.add(claimKey);
          return;
        }
        this.volumeQueue.add(keyOf(event.object));
        this.queueUnboundClaims();
      } else if (event.typeId === CLAIMS) {
        if (event.type === 'DELETED') {
          // deleteClaim: its volume is to be released.
          const volumeName = getString(event.object, ['spec', 'volumeName']);
          if (volumeName) this.volumeQueue.add(`/${volumeName}`);
          return;
        }
        this.claimQueue.add(keyOf(event.object));
      } else {
        this.queueUnboundClaims();
      }
    });
    for (const volume of this.ctx.store.list(VOLUMES)) this.volumeQueue.add(keyOf(volume));
    for (const claim of this.ctx.store.list(CLAIMS)) this.claimQueue.add(keyOf(claim));
  }

  stop(): void {
    this.unsubscribe?.();
    this.volumeQueue.stop();
    this.claimQueue.stop();
  }

  /** What the real controller's periodic resync does for claims still waiting. */
  private queueUnboundClaims(): void {
    for (const claim of this.ctx.store.list(CLAIMS))
      if (!hasAnnotation(claim, ANN_BIND_COMPLETED)) this.claimQueue.add(keyOf(claim));
  }

  private get volumeType(): ResourceType {
    return requireType(this.ctx.registry, VOLUMES);
  }

  private get claimType(): ResourceType {
    return requireType(this.ctx.registry, CLAIMS);
  }

  // ---- volumes ---------------------------------------------------------------------------------

  private syncVolume(key: string): void {
    const volume = this.ctx.store.get(VOLUMES, '', splitKey(key).name);
    if (!volume) return;
    const claimRef = getObject(volume, ['spec', 'claimRef']);
    if (!claimRef) {
      this.updateVolumePhase(volume, 'Available');
      return;
    }
    if (!claimRef['uid']) {
      // Pre-bound to a claim that has not been bound to it yet: the claim's sync does that.
      this.updateVolumePhase(volume, 'Available');
      return;
    }
    let claim = this.ctx.store.get(
      CLAIMS,
      String(claimRef['namespace'] ?? ''),
      String(claimRef['name'] ?? ''),
    );
    // A claim of the same name but another uid: the bound one was deleted and another created.
    if (claim && claim.metadata.uid !== claimRef['uid']) claim = undefined;
    if (!claim) {
      // Released; reclaiming is a no-op for Retain (and not done for other policies here).
      if (phaseOf(volume) !== 'Released' && phaseOf(volume) !== 'Failed')
        this.updateVolumePhase(volume, 'Released');
      return;
    }
    const claimVolume = getString(claim, ['spec', 'volumeName']) ?? '';
    if (claimVolume === '') {
      if (!volumeModeMismatch(claim, volume)) this.claimQueue.add(keyOf(claim));
    } else if (claimVolume === volume.metadata.name) {
      this.updateVolumePhase(volume, 'Bound');
    } else {
      // Bound to a claim that is bound to another volume.
      this.unbindVolume(volume);
    }
  }

  private unbindVolume(volume: StoredObject): void {
    const next = clone(volume);
    const spec = next['spec'] as JsonObject;
    if (hasAnnotation(volume, ANN_BOUND_BY_CONTROLLER)) {
      delete spec['claimRef'];
      const annotations = { ...next.metadata.annotations };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      if (Object.keys(annotations).length > 0) next.metadata.annotations = annotations;
      else delete next.metadata.annotations;
    } else {
      // Pre-bound by the user: only the binding's uid goes.
      const claimRef = { ...(spec['claimRef'] as JsonObject) };
      delete claimRef['uid'];
      spec['claimRef'] = claimRef;
    }
    const updated = this.ctx.storage.commitUpdate(this.volumeType, volume, next, CONTROLLER_MANAGER);
    this.updateVolumePhase(updated, 'Available');
  }

  private updateVolumePhase(volume: StoredObject, phase: string): StoredObject {
    if (phaseOf(volume) === phase) return volume;
    const next = clone(volume);
    const status: JsonObject = { ...(getObject(next, ['status']) ?? {}), phase };
    delete status['message'];
    next['status'] = status;
    return this.ctx.storage.commitUpdate(this.volumeType, volume, next, STATUS_WRITE);
  }

  // ---- claims ----------------------------------------------------------------------------------

  private syncClaim(key: string): void {
    const { namespace, name } = splitKey(key);
    const claim = this.ctx.store.get(CLAIMS, namespace, name);
    if (!claim) return;
    if (hasAnnotation(claim, ANN_BIND_COMPLETED)) this.syncBoundClaim(claim);
    else this.syncUnboundClaim(claim);
  }

  private syncUnboundClaim(claim: StoredObject): void {
    const volumeName = getString(claim, ['spec', 'volumeName']) ?? '';
    if (volumeName === '') {
      const volume = this.findBestMatch(claim);
      if (volume) this.bind(volume, claim);
      else this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const volume = this.ctx.store.get(VOLUMES, '', volumeName);
    if (!volume) {
      this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const claimRef = getObject(volume, ['spec', 'claimRef']);
    if (!claimRef) {
      // The claim asks for a volume nobody claimed: it must satisfy the claim.
      if (satisfies(volume, claim)) this.bind(volume, claim);
      else this.updateClaimStatus(claim, 'Pending', undefined);
    } else if (isBoundTo(volume, claim)) {
      // Pre-bound both ways: the real controller finishes the binding without further checks.
      this.bind(volume, claim);
    } else {
      // The volume is someone else's: wait.
      this.updateClaimStatus(claim, 'Pending', undefined);
    }
  }

  private syncBoundClaim(claim: StoredObject): void {
    const volumeName = getString(claim, ['spec', 'volumeName']) ?? '';
    const volume = volumeName ? this.ctx.store.get(VOLUMES, '', volumeName) : undefined;
    if (!volume) {
      this.updateClaimStatus(claim, 'Lost', undefined);
      return;
    }
    const claimRef = getObject(volume, ['spec', 'claimRef']);
    if (!claimRef || claimRef['uid'] === claim.metadata.uid) this.bind(volume, claim);
    else this.updateClaimStatus(claim, 'Lost', undefined);
  }

  /** findBestMatchForClaim: a volume pre-bound to the claim, else the smallest Available match. */
  private findBestMatch(claim: StoredObject): StoredObject | undefined {
    const requested = quantity(getString(claim, ['spec', 'resources', 'requests', 'storage']));
    const delayBinding = this.isDelayBinding(claim);
    const selector = fromLabelSelectorObject(getObject(claim, ['spec', 'selector']));
    let best: { volume: StoredObject; size: number } | undefined;
    // The real index tries volumes with the fewest access modes first, then by size.
    const candidates = this.ctx.store
      .list(VOLUMES)
      .filter((volume) => accessModesCover(volume, claim))
      .sort((a, b) => accessModes(a).length - accessModes(b).length);
    let modeCount = -1;
    for (const volume of candidates) {
      if (accessModes(volume).length !== modeCount) {
        if (best) return best.volume;
        modeCount = accessModes(volume).length;
      }
      const size = quantity(getString(volume, ['spec', 'capacity', 'storage']));
      if (size < requested || volumeModeMismatch(claim, volume) || volume.metadata.deletionTimestamp)
        continue;
      if (isBoundTo(volume, claim)) return volume;
      if (delayBinding) continue;
      if (phaseOf(volume) !== 'Available' || getObject(volume, ['spec', 'claimRef'])) continue;
      if (selector && !matchesLabels(selector, volume.metadata.labels)) continue;
      if (volumeClass(volume) !== claimClass(claim)) continue;
      if (!best || size < best.size) best = { volume, size };
    }
    return best?.volume;
  }

  private isDelayBinding(claim: StoredObject): boolean {
    const className = claimClass(claim);
    if (!className) return false;
    const storageClass = this.ctx.store.get(STORAGE_CLASSES, '', className);
    return storageClass?.['volumeBindingMode'] === 'WaitForFirstConsumer';
  }

  /** The four writes of the real bind(), each skipped when it would change nothing. */
  private bind(volume: StoredObject, claim: StoredObject): void {
    const boundVolume = this.updateVolumePhase(this.bindVolumeToClaim(volume, claim), 'Bound');
    const boundClaim = this.bindClaimToVolume(claim, boundVolume);
    this.updateClaimStatus(boundClaim, 'Bound', boundVolume);
  }

  private bindVolumeToClaim(volume: StoredObject, claim: StoredObject): StoredObject {
    const byController = !isBoundTo(volume, claim);
    const claimRef = getObject(volume, ['spec', 'claimRef']);
    const next = clone(volume);
    let dirty = false;
    if (
      !claimRef ||
      claimRef['name'] !== claim.metadata.name ||
      claimRef['namespace'] !== claim.metadata.namespace ||
      claimRef['uid'] !== claim.metadata.uid
    ) {
      // reference.GetReference: the whole reference is replaced, fieldPath and all.
      (next['spec'] as JsonObject)['claimRef'] = {
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: claim.metadata.resourceVersion,
      };
      dirty = true;
    }
    if (byController && !hasAnnotation(next, ANN_BOUND_BY_CONTROLLER)) {
      next.metadata.annotations = { ...next.metadata.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      dirty = true;
    }
    return dirty ? this.ctx.storage.commitUpdate(this.volumeType, volume, next, CONTROLLER_MANAGER) : volume;
  }

  private bindClaimToVolume(claim: StoredObject, volume: StoredObject): StoredObject {
    const volumeName = volume.metadata.name ?? '';
    const shouldBind = getString(claim, ['spec', 'volumeName']) !== volumeName;
    const next = clone(claim);
    const annotations = { ...next.metadata.annotations };
    let dirty = false;
    if (shouldBind) {
      next['spec'] = { ...(getObject(next, ['spec']) ?? {}), volumeName };
      if (annotations[ANN_BOUND_BY_CONTROLLER] === undefined) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      dirty = true;
    }
    if (annotations[ANN_BIND_COMPLETED] === undefined) {
      annotations[ANN_BIND_COMPLETED] = 'yes';
      dirty = true;
    }
    if (!dirty) return claim;
    next.metadata.annotations = annotations;
    return this.ctx.storage.commitUpdate(this.claimType, claim, next, CONTROLLER_MANAGER);
  }

  /** Phase, and access modes and capacity from the volume (reset without one). */
  private updateClaimStatus(claim: StoredObject, phase: string, volume: StoredObject | undefined): void {
    const status: JsonObject = { ...(getObject(claim, ['status']) ?? {}), phase };
    if (!volume) {
      delete status['accessModes'];
      delete status['capacity'];
    } else {
      const modes = getArray(volume, ['spec', 'accessModes']);
      if (modes) status['accessModes'] = clone(modes);
      else delete status['accessModes'];
      // Capacity only when the claim becomes Bound: a later difference may be deliberate (resize).
      if (phaseOf(claim) !== phase) {
        const capacity = getObject(volume, ['spec', 'capacity']);
        if (capacity) status['capacity'] = clone(capacity);
      }
    }
    if (deepEqual(status, getObject(claim, ['status']) ?? {})) return;
    this.ctx.storage.commitUpdate(this.claimType, claim, { ...clone(claim), status }, STATUS_WRITE);
  }
}

function hasAnnotation(object: StoredObject, key: string): boolean {
  return object.metadata.annotations?.[key] !== undefined;
}

function phaseOf(object: StoredObject): string | undefined {
  return getString(object, ['status', 'phase']);
}

function claimRefKey(volume: StoredObject): string | undefined {
  const claimRef = getObject(volume, ['spec', 'claimRef']);
  return claimRef ? `${String(claimRef['namespace'] ?? '')}/${String(claimRef['name'] ?? '')}` : undefined;
}

/** IsVolumeBoundToClaim: the claimRef names the claim (and, once it has one, by uid too). */
function isBoundTo(volume: StoredObject, claim: StoredObject): boolean {
  const claimRef = getObject(volume, ['spec', 'claimRef']);
  if (!claimRef) return false;
  if (claimRef['name'] !== claim.metadata.name || claimRef['namespace'] !== claim.metadata.namespace)
    return false;
  return !claimRef['uid'] || claimRef['uid'] === claim.metadata.uid;
}

function claimClass(claim: StoredObject): string {
  return (
    claim.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] ??
    getString(claim, ['spec', 'storageClassName']) ??
    ''
  );
}

function volumeClass(volume: StoredObject): string {
  return (
    volume.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] ??
    getString(volume, ['spec', 'storageClassName']) ??
    ''
  );
}

function accessModes(object: StoredObject): string[] {
  return (getArray(object, ['spec', 'accessModes']) ?? []).filter((m): m is string => typeof m === 'string');
}

function accessModesCover(volume: StoredObject, claim: StoredObject): boolean {
  const offered = new Set(accessModes(volume));
  return accessModes(claim).every((mode) => offered.has(mode));
}

function volumeModeMismatch(claim: StoredObject, volume: StoredObject): boolean {
  const mode = (object: StoredObject) => getString(object, ['spec', 'volumeMode']) ?? 'Filesystem';
  return mode(claim) !== mode(volume);
}

/** checkVolumeSatisfyClaim, for a claim that names an unclaimed volume. */
function satisfies(volume: StoredObject, claim: StoredObject): boolean {
  if (volume.metadata.deletionTimestamp) return false;
  const size = quantity(getString(volume, ['spec', 'capacity', 'storage']));
  if (size < quantity(getString(claim, ['spec', 'resources', 'requests', 'storage']))) return false;
  if (volumeClass(volume) !== claimClass(claim)) return false;
  if (volumeModeMismatch(claim, volume)) return false;
  return accessModesCover(volume, claim);
}

const QUANTITY = /^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A resource quantity's value (`10Gi`, `500M`, `1e9`), for comparisons; 0 when absent or malformed. */
export function quantity(text: string | undefined): number {
  const match = text ? QUANTITY.exec(text.trim()) : null;
  if (!match) return 0;
  const [, number, suffix] = match;
  const scale = !suffix ? 1 : /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
  return Number(number) * scale;
}
