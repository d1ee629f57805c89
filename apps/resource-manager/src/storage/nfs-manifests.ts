/**
 * The Kubernetes objects behind a tenant's NFS storage (R-ST-1..4), for csi-driver-nfs
 * (`nfs.csi.k8s.io`): a StorageClass per tenant and NFS server, and for every tenant-wide volume a
 * statically provisioned PersistentVolume + PersistentVolumeClaim pair in each environment, all
 * pointing at the SAME sub-directory of the export, so the volume is shared across the tenant's
 * networks (R-ST-3). Plain data in, server-side-apply-ready objects out; nothing here talks to a
 * cluster.
 */
import type { KubeObject } from '@stratum/kube';
import { dnsLabel, ENVIRONMENT_LABELS } from '../environments/environment-manifests';

/** The CSI driver every Stratum NFS volume goes through. */
export const NFS_CSI_DRIVER = 'nfs.csi.k8s.io';

/** NFSv4.1: one TCP connection, sessions, no separate lock manager (works through firewalls). */
export const NFS_MOUNT_OPTIONS: readonly string[] = ['nfsvers=4.1'];

export const STORAGE_LABELS = {
  tenant: ENVIRONMENT_LABELS.tenant,
  nfsServer: 'stratum.io/nfs-server',
  nfsTier: 'stratum.io/nfs-tier',
  volume: 'stratum.io/volume',
  managedBy: ENVIRONMENT_LABELS.managedBy,
} as const;

export const STORAGE_ANNOTATIONS = {
  /** `<server>:<export>/<sub-path>`: where the volume's files are, the same in every environment. */
  exportPath: 'stratum.io/export-path',
} as const;

export type NfsTier = 'gold' | 'silver' | 'bronze';

/** An NFS server as a platform admin recorded it (R-ST-1), with its performance tier (R-ST-4). */
export interface NfsServerSpec {
  id: string;
  name: string;
  /** Host name or IP address of the server. */
  address: string;
  /** The exported directory, e.g. `/exports/stratum`. */
  exportPath: string;
  tier: NfsTier;
  capacityBytes: number;
}

export interface TenantRef {
  id: string;
  name: string;
}

/** A tenant-wide volume (R-ST-3). */
export interface VolumeSpec {
  id: string;
  name: string;
  sizeBytes: number;
}

export interface VolumeManifestInput {
  tenant: TenantRef;
  /** The NFS server the user picked for the volume (R-ST-4). */
  server: NfsServerSpec;
  volume: VolumeSpec;
  /** The environment's namespace the claim lives in. */
  namespace: string;
  /** Normally `storageClassName(tenant, server)`. */
  storageClassName: string;
}

const MANAGED_BY = { [STORAGE_LABELS.managedBy]: 'stratum' };

/**
 * The cluster's registration of csi-driver-nfs. Only this object is Stratum's: the driver itself
 * (its controller Deployment and node DaemonSet, RBAC, images) is installed once per cluster by the
 * platform operators (see docs/operations), never per tenant or environment.
 *
 * `fsGroupPolicy` is left out on purpose: kube-apiserver 1.20 defaults it
 * (`ReadWriteOnceWithFSType`, measured on the bench), and the CSIDriver spec is immutable, so a
 * driver installation that already registered the driver with other values keeps them; not stating
 * it keeps every apply a no-op either way.
 */
export function csiDriverObject(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name: NFS_CSI_DRIVER, labels: { ...MANAGED_BY } },
    spec: {
      // NFS has no attach step (no ControllerPublishVolume): skip the VolumeAttachment dance.
      attachRequired: false,
      volumeLifecycleModes: ['Persistent'],
    },
  };
}

/** `stratum-<tenant>-<server>`, a DNS label (≤ 63; long names keep a hash). */
export function storageClassName(
  tenant: Pick<TenantRef, 'name'>,
  server: Pick<NfsServerSpec, 'name'>,
): string {
  return dnsLabel(`stratum-${tenant.name}-${server.name}`);
}

/**
 * The tenant's StorageClass on one NFS server (R-ST-2). Cluster-scoped, so one per tenant and
 * server serves all the tenant's environments. Stratum's own volumes are static (see
 * {@link volumeManifests}); the class is still provisioner-backed for ad-hoc dynamic claims, whose
 * directories land under the tenant's directory (`subDir` templates are expanded by csi-driver-nfs;
 * its provisioner sidecar needs `--extra-create-metadata`). Retain: a deleted claim never deletes
 * tenant data.
 */
export function nfsStorageClass(tenant: TenantRef, server: NfsServerSpec): KubeObject {
  const tenantLabel = dnsLabel(tenant.id);
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: storageClassName(tenant, server),
      labels: {
        [STORAGE_LABELS.tenant]: tenantLabel,
        [STORAGE_LABELS.nfsServer]: dnsLabel(server.id),
        [STORAGE_LABELS.nfsTier]: server.tier,
        ...MANAGED_BY,
      },
    },
    provisioner: NFS_CSI_DRIVER,
    parameters: {
      server: server.address,
      share: server.exportPath,
      subDir: `${tenantLabel}/\${pvc.metadata.namespace}-\${pvc.metadata.name}`,
    },
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate',
    mountOptions: [...NFS_MOUNT_OPTIONS],
    allowVolumeExpansion: true,
  };
}

/** The claim's name in every environment: `vol-<volume name>`. */
export function volumeClaimName(volume: Pick<VolumeSpec, 'name'>): string {
  return dnsLabel(`vol-${volume.name}`);
}

/**
 * The volume's directory under the export, relative to it: `<tenant id>/<volume name>-<id prefix>`.
 * It depends on tenant and volume only, so every environment mounts the same files (R-ST-3), and a
 * volume re-created under the same name gets a fresh directory.
 */
export function volumeExportSubPath(
  tenant: Pick<TenantRef, 'id'>,
  volume: Pick<VolumeSpec, 'id' | 'name'>,
): string {
  return `${dnsLabel(tenant.id)}/${dnsLabel(volume.name)}-${volume.id.slice(0, 8)}`;
}

/** The PersistentVolume's name: cluster-wide, so unique per environment namespace and claim. */
export function volumePersistentVolumeName(namespace: string, volume: Pick<VolumeSpec, 'name'>): string {
  return dnsLabel(`${namespace}-${volumeClaimName(volume)}`);
}

/** `<address>:<export>/<sub-path>`, as the annotation shows it. */
export function volumeExportPath(
  tenant: Pick<TenantRef, 'id'>,
  server: Pick<NfsServerSpec, 'address' | 'exportPath'>,
  volume: Pick<VolumeSpec, 'id' | 'name'>,
): string {
  return `${server.address}:${server.exportPath.replace(/\/+$/, '')}/${volumeExportSubPath(tenant, volume)}`;
}

function byteQuantity(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new RangeError(`a volume size must be a positive whole number of bytes, not ${bytes}`);
  }
  return String(bytes);
}

/**
 * One environment's view of a tenant-wide volume (R-ST-3): a statically provisioned
 * PersistentVolume on the volume's directory, pre-bound both ways (PV `claimRef`, PVC `volumeName`)
 * so no other claim can take it, and its claim in the environment's namespace. Apply the PV first.
 * csi-driver-nfs creates the `subDir` when it is missing. Retain: deleting the objects of one
 * environment never deletes the files the other environments share.
 */
export function volumeManifests({
  tenant,
  server,
  volume,
  namespace,
  storageClassName: className,
}: VolumeManifestInput): [KubeObject, KubeObject] {
  const claimName = volumeClaimName(volume);
  const pvName = volumePersistentVolumeName(namespace, volume);
  const subPath = volumeExportSubPath(tenant, volume);
  const storage = byteQuantity(volume.sizeBytes);
  const labels = {
    [STORAGE_LABELS.tenant]: dnsLabel(tenant.id),
    [STORAGE_LABELS.volume]: dnsLabel(volume.id),
    [STORAGE_LABELS.nfsServer]: dnsLabel(server.id),
    ...MANAGED_BY,
  };
  const annotations = { [STORAGE_ANNOTATIONS.exportPath]: volumeExportPath(tenant, server, volume) };
  const persistentVolume: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: pvName, labels: { ...labels }, annotations: { ...annotations } },
    spec: {
      capacity: { storage },
      accessModes: ['ReadWriteMany'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: className,
      mountOptions: [...NFS_MOUNT_OPTIONS],
      csi: {
        driver: NFS_CSI_DRIVER,
        // Unique per PV: the kubelet keys its global mount by the handle.
        volumeHandle: `${server.address}#${server.exportPath}#${subPath}#${namespace}`,
        volumeAttributes: { server: server.address, share: server.exportPath, subDir: subPath },
      },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claimName },
    },
  };
  const claim: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName, namespace, labels: { ...labels }, annotations: { ...annotations } },
    spec: {
      accessModes: ['ReadWriteMany'],
      storageClassName: className,
      volumeName: pvName,
      resources: { requests: { storage } },
    },
  };
  return [persistentVolume, claim];
}

const BINARY_SUFFIX: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_SUFFIX: Record<string, number> = { m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([mkMGTPE]?)|[eE]([+-]?\d{1,3}))$/;

/**
 * Bytes in a Kubernetes quantity (`10Gi`, `500M`, `1.5Ti`, `1e9`, `10737418240`), rounded up to a
 * whole byte as the API server's `Value()` does. Sizes read back from the cluster come canonicalised
 * (`10737418240` is stored as `10Gi`), so compare through this, never as strings. Exact (integer
 * arithmetic); throws on text that is no quantity or on a value past 2^53.
 */
export function parseQuantityBytes(quantity: string): number {
  const match = QUANTITY.exec(quantity);
  if (!match) throw new TypeError(`"${quantity}" is not a Kubernetes quantity (e.g. 10Gi, 500M, 1024)`);
  const [, sign, number, binary, decimal, exponent] = match;
  const [whole, fraction = ''] = number.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  if (binary) {
    numerator <<= BINARY_SUFFIX[binary];
  } else {
    const power = exponent !== undefined ? Number(exponent) : DECIMAL_SUFFIX[decimal ?? ''];
    if (power >= 0) numerator *= 10n ** BigInt(power);
    else denominator *= 10n ** BigInt(-power);
  }
  const bytes = (numerator + denominator - 1n) / denominator;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`"${quantity}" is more bytes than this can count exactly`);
  }
  return sign === '-' && bytes > 0n ? -Number(bytes) : Number(bytes);
}
