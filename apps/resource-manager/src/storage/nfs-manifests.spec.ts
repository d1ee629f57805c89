import type { KubeObject } from '@stratum/kube';
import { dnsLabel, ENVIRONMENT_LABELS } from '../environments/environment-manifests';
import {
  csiDriverObject,
  NFS_CSI_DRIVER,
  nfsStorageClass,
  parseQuantityBytes,
  storageClassName,
  STORAGE_ANNOTATIONS,
  STORAGE_LABELS,
  volumeClaimName,
  volumeExportSubPath,
  volumeManifests,
  type NfsServerSpec,
  type TenantRef,
  type VolumeManifestInput,
  type VolumeSpec,
} from './nfs-manifests';

const tenant: TenantRef = { id: 'T-0001', name: 'Retail Banking' };
const gold: NfsServerSpec = {
  id: 'NFS-GOLD-1',
  name: 'gold-1',
  address: '10.50.0.10',
  exportPath: '/exports/stratum',
  tier: 'gold',
  capacityBytes: 10 * 2 ** 40,
};
const volume: VolumeSpec = {
  id: '3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f',
  name: 'shared-docs',
  sizeBytes: 10 * 2 ** 30,
};

const input = (namespace: string, overrides: Partial<VolumeManifestInput> = {}): VolumeManifestInput => ({
  tenant,
  server: gold,
  volume,
  namespace,
  storageClassName: storageClassName(tenant, gold),
  ...overrides,
});

interface VolumeObjectSpec {
  csi: { volumeHandle: string; volumeAttributes: Record<string, string> };
  claimRef: { name: string };
  volumeName: string;
}
const spec = (object: KubeObject) => object.spec as VolumeObjectSpec;

describe('NFS manifests (R-ST-1..4)', () => {
  describe('CSI driver', () => {
    it('registers nfs.csi.k8s.io cluster-wide, without attach, for persistent volumes', () => {
      expect(csiDriverObject()).toEqual({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSIDriver',
        metadata: { name: NFS_CSI_DRIVER, labels: { [ENVIRONMENT_LABELS.managedBy]: 'stratum' } },
        spec: { attachRequired: false, volumeLifecycleModes: ['Persistent'] },
      });
      expect(csiDriverObject().metadata?.namespace).toBeUndefined();
      expect(NFS_CSI_DRIVER).toBe('nfs.csi.k8s.io');
    });
  });

  describe('storage class (R-ST-2, R-ST-4)', () => {
    it('is named after tenant and server', () => {
      expect(storageClassName(tenant, gold)).toBe('stratum-retail-banking-gold-1');
    });

    it('keeps long names within 63 characters and distinct', () => {
      const long = { name: 'a'.repeat(70) };
      const name = storageClassName(long, gold);
      expect(name).toHaveLength(63);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name).not.toBe(storageClassName({ name: `${'a'.repeat(70)}b` }, gold));
    });

    it('provisions on the server’s export under the tenant’s directory, retained, NFSv4.1', () => {
      const storageClass = nfsStorageClass(tenant, gold);
      expect(storageClass).toEqual({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {
          name: 'stratum-retail-banking-gold-1',
          labels: {
            [STORAGE_LABELS.tenant]: 't-0001',
            [STORAGE_LABELS.nfsServer]: 'nfs-gold-1',
            [STORAGE_LABELS.nfsTier]: 'gold',
            [STORAGE_LABELS.managedBy]: 'stratum',
          },
        },
        provisioner: 'nfs.csi.k8s.io',
        parameters: {
          server: '10.50.0.10',
          share: '/exports/stratum',
          subDir: 't-0001/${pvc.metadata.namespace}-${pvc.metadata.name}',
        },
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'Immediate',
        mountOptions: ['nfsvers=4.1'],
        allowVolumeExpansion: true,
      });
      expect(storageClass.metadata?.namespace).toBeUndefined();
    });

    it('labels each tier', () => {
      const bronze = nfsStorageClass(tenant, { ...gold, id: 'NFS-B', name: 'bronze-1', tier: 'bronze' });
      expect(bronze.metadata?.labels?.[STORAGE_LABELS.nfsTier]).toBe('bronze');
      expect(bronze.metadata?.name).toBe('stratum-retail-banking-bronze-1');
    });
  });

  describe('tenant-wide volumes (R-ST-3)', () => {
    it('names the claim after the volume and the directory after tenant and volume', () => {
      expect(volumeClaimName(volume)).toBe('vol-shared-docs');
      expect(volumeExportSubPath(tenant, volume)).toBe('t-0001/shared-docs-3f2a9c1e');
    });

    it('gives every environment the same directory, through its own PV and claim', () => {
      const [pvA, pvcA] = volumeManifests(input('retail-banking-dmz'));
      const [pvB, pvcB] = volumeManifests(input('retail-banking-core'));
      expect(pvA.metadata?.name).toBe('retail-banking-dmz-vol-shared-docs');
      expect(pvB.metadata?.name).toBe('retail-banking-core-vol-shared-docs');
      expect(spec(pvA).csi.volumeAttributes).toEqual(spec(pvB).csi.volumeAttributes);
      expect(spec(pvA).csi.volumeAttributes).toEqual({
        server: '10.50.0.10',
        share: '/exports/stratum',
        subDir: 't-0001/shared-docs-3f2a9c1e',
      });
      expect(spec(pvA).csi.volumeHandle).not.toBe(spec(pvB).csi.volumeHandle);
      const exportPath = '10.50.0.10:/exports/stratum/t-0001/shared-docs-3f2a9c1e';
      for (const object of [pvA, pvcA, pvB, pvcB]) {
        expect(object.metadata?.annotations?.[STORAGE_ANNOTATIONS.exportPath]).toBe(exportPath);
      }
      expect(pvcA.metadata?.name).toBe(pvcB.metadata?.name);
    });

    it('builds a pre-bound, retained, RWX static PV and its claim', () => {
      const [pv, pvc] = volumeManifests(input('retail-banking-dmz'));
      const labels = {
        [STORAGE_LABELS.tenant]: 't-0001',
        [STORAGE_LABELS.volume]: '3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f',
        [STORAGE_LABELS.nfsServer]: 'nfs-gold-1',
        [STORAGE_LABELS.managedBy]: 'stratum',
      };
      expect(pv).toEqual({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name: 'retail-banking-dmz-vol-shared-docs',
          labels,
          annotations: {
            [STORAGE_ANNOTATIONS.exportPath]: '10.50.0.10:/exports/stratum/t-0001/shared-docs-3f2a9c1e',
          },
        },
        spec: {
          capacity: { storage: '10737418240' },
          accessModes: ['ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'stratum-retail-banking-gold-1',
          mountOptions: ['nfsvers=4.1'],
          csi: {
            driver: 'nfs.csi.k8s.io',
            volumeHandle: '10.50.0.10#/exports/stratum#t-0001/shared-docs-3f2a9c1e#retail-banking-dmz',
            volumeAttributes: {
              server: '10.50.0.10',
              share: '/exports/stratum',
              subDir: 't-0001/shared-docs-3f2a9c1e',
            },
          },
          claimRef: {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            namespace: 'retail-banking-dmz',
            name: 'vol-shared-docs',
          },
        },
      });
      expect(pv.metadata?.namespace).toBeUndefined();
      expect(pvc).toEqual({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: 'vol-shared-docs',
          namespace: 'retail-banking-dmz',
          labels,
          annotations: {
            [STORAGE_ANNOTATIONS.exportPath]: '10.50.0.10:/exports/stratum/t-0001/shared-docs-3f2a9c1e',
          },
        },
        spec: {
          accessModes: ['ReadWriteMany'],
          storageClassName: 'stratum-retail-banking-gold-1',
          volumeName: 'retail-banking-dmz-vol-shared-docs',
          resources: { requests: { storage: '10737418240' } },
        },
      });
    });

    it('does not double the slash of an export path ending in one', () => {
      const [pv] = volumeManifests(input('ns', { server: { ...gold, exportPath: '/exports/' } }));
      expect(pv.metadata?.annotations?.[STORAGE_ANNOTATIONS.exportPath]).toBe(
        '10.50.0.10:/exports/t-0001/shared-docs-3f2a9c1e',
      );
    });

    it('keeps PV names ≤ 63 and distinct for long namespaces and volume names', () => {
      const longVolume = { ...volume, name: 'v'.repeat(60) };
      const namespace = dnsLabel('n'.repeat(63));
      const [pvA, pvcA] = volumeManifests(input(namespace, { volume: longVolume }));
      const [pvB] = volumeManifests(input(`${namespace.slice(0, 62)}m`, { volume: longVolume }));
      expect(pvA.metadata!.name!.length).toBeLessThanOrEqual(63);
      expect(pvcA.metadata!.name!.length).toBeLessThanOrEqual(63);
      expect(pvA.metadata?.name).not.toBe(pvB.metadata?.name);
      expect(spec(pvA).claimRef.name).toBe(pvcA.metadata?.name);
      expect(spec(pvcA).volumeName).toBe(pvA.metadata?.name);
    });

    it('is deterministic', () => {
      expect(JSON.stringify(volumeManifests(input('ns-a')))).toBe(
        JSON.stringify(volumeManifests(input('ns-a'))),
      );
      expect(JSON.stringify(nfsStorageClass(tenant, gold))).toBe(
        JSON.stringify(nfsStorageClass(tenant, gold)),
      );
    });

    it('refuses sizes that are no positive whole number of bytes', () => {
      for (const sizeBytes of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
        expect(() => volumeManifests(input('ns', { volume: { ...volume, sizeBytes } }))).toThrow(RangeError);
      }
    });
  });

  describe('parseQuantityBytes', () => {
    it.each([
      ['10Gi', 10 * 2 ** 30],
      ['10737418240', 10737418240],
      ['1Ki', 1024],
      ['1.5Mi', 1.5 * 2 ** 20],
      ['2Ti', 2 * 2 ** 40],
      ['1Pi', 2 ** 50],
      ['1k', 1000],
      ['500M', 500_000_000],
      ['10G', 10_000_000_000],
      ['1T', 1e12],
      ['0.07k', 70],
      ['1.1Gi', 1181116007],
      ['1500m', 2],
      ['1e3', 1000],
      ['1E3', 1000],
      ['.5Ki', 512],
      ['5.', 5],
      ['+3', 3],
      ['-1Ki', -1024],
      ['0', 0],
    ])('%s is %d bytes', (quantity, bytes) => {
      expect(parseQuantityBytes(quantity)).toBe(bytes);
    });

    it('compares a size written in bytes with the canonical form read back', () => {
      expect(parseQuantityBytes(String(volume.sizeBytes))).toBe(parseQuantityBytes('10Gi'));
    });

    it.each(['', 'Gi', '10 Gi', '10GB', '10gi', '1.2.3', 'ten', '10Gi ', '0x10'])('rejects "%s"', (text) => {
      expect(() => parseQuantityBytes(text)).toThrow(TypeError);
    });

    it('refuses values it cannot count exactly', () => {
      expect(() => parseQuantityBytes('16Ei')).toThrow(RangeError);
      expect(() => parseQuantityBytes('1e20')).toThrow(RangeError);
    });
  });
});
