import { errors } from './api-status';
import { getString, isObject, type JsonObject } from './json';
import type { StoredObject } from './object-meta';
import type { ObjectStore } from './object-store';

/**
 * What admission plugins and the service registry add to new objects that needs other objects to
 * decide: PodNodeSelector, ServiceAccount (token mounts) and service cluster IP allocation.
 */
export class Admission {
  private clusterIPs: Set<string> | undefined;

  constructor(private readonly store: ObjectStore) {}

  /**
   * ServiceAccount admission: refuses a pod whose service account does not exist, and mounts the
   * account's token secret into every container at the well-known path.
   */
  serviceAccount(pod: StoredObject): void {
    if (!isObject(pod['spec'])) return;
    const spec = pod['spec'];
    const namespace = pod.metadata.namespace ?? '';
    const name = typeof spec['serviceAccountName'] === 'string' ? spec['serviceAccountName'] : 'default';
    const account = this.store.get('/serviceaccounts', namespace, name);
    if (!account) {
      throw errors.forbidden(
        { group: '', resource: 'pods' },
        pod.metadata.name ?? '',
        `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`,
      );
    }
    if (spec['automountServiceAccountToken'] === false) return;
    if (account['automountServiceAccountToken'] === false && spec['automountServiceAccountToken'] !== true)
      return;
    const secrets = Array.isArray(account['secrets']) ? account['secrets'] : [];
    const token = secrets
      .filter(isObject)
      .map((s) => this.store.get('/secrets', namespace, String(s['name'])))
      .find((s) => s?.['type'] === 'kubernetes.io/service-account-token');
    if (!token) return;
    const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
    const secretName = token.metadata.name ?? '';
    const containers = ['containers', 'initContainers'].flatMap((list) =>
      Array.isArray(spec[list]) ? (spec[list] as unknown[]).filter(isObject) : [],
    );
    const mounted = containers.some(
      (c) =>
        Array.isArray(c['volumeMounts']) &&
        c['volumeMounts'].some((m) => isObject(m) && m['mountPath'] === mountPath),
    );
    if (mounted) return;
    const volumes = Array.isArray(spec['volumes']) ? spec['volumes'] : [];
    spec['volumes'] = [...volumes, { name: secretName, secret: { secretName, defaultMode: 420 } }];
    for (const container of containers) {
      const mounts = Array.isArray(container['volumeMounts']) ? container['volumeMounts'] : [];
      container['volumeMounts'] = [...mounts, { name: secretName, readOnly: true, mountPath }];
    }
  }

  nodeSelector(pod: StoredObject): void {
    const ns = this.store.get('/namespaces', '', pod.metadata.namespace ?? '');
    const annotation = ns?.metadata.annotations?.['scheduler.alpha.kubernetes.io/node-selector'];
    if (!annotation || !isObject(pod['spec'])) return;
    const spec = pod['spec'];
    const selector: JsonObject = isObject(spec['nodeSelector']) ? { ...spec['nodeSelector'] } : {};
    for (const term of annotation.split(',')) {
      const [key, value = ''] = term.split('=').map((part) => part.trim());
      if (!key) continue;
      if (selector[key] !== undefined && selector[key] !== value) {
        throw errors.forbidden(
          { group: '', resource: 'pods' },
          pod.metadata.name ?? '',
          'pod node label selector conflicts with its namespace node label selector',
        );
      }
      selector[key] = value;
    }
    spec['nodeSelector'] = selector;
  }

  /** Cluster IPs from the default 10.96.0.0/16 range; 10.96.0.1 is the kubernetes service's. */
  clusterIP(object: StoredObject): void {
    const spec = isObject(object['spec']) ? object['spec'] : undefined;
    if (!spec || spec['type'] === 'ExternalName') return;
    if (!this.clusterIPs) {
      this.clusterIPs = new Set(['10.96.0.0']);
      for (const svc of this.store.list('/services')) {
        const ip = getString(svc, ['spec', 'clusterIP']);
        if (ip) this.clusterIPs.add(ip);
      }
    }
    let ip =
      typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== '' ? spec['clusterIP'] : undefined;
    if (!ip) {
      for (let n = 1; n < 65535 && !ip; n++) {
        const candidate = `10.96.${n >> 8}.${n & 255}`;
        if (!this.clusterIPs.has(candidate)) ip = candidate;
      }
    }
    if (!ip) return;
    if (ip !== 'None') this.clusterIPs.add(ip);
    spec['clusterIP'] = ip;
    spec['clusterIPs'] ??= [ip];
  }
}
