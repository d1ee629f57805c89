/**
 * What runs in an environment, asked of the cluster at request time: an environment is removed only
 * once nothing runs there (issue #4 §3), and a volume is deleted only while no workload mounts its
 * claim (§5). Refusals name the workloads so the caller knows what to remove first.
 */
import type { KubeClusters, KubeObject } from '@stratum/kube';

interface PodSpecLike {
  volumes?: Array<{ persistentVolumeClaim?: { claimName?: string } }>;
}
type Workload = KubeObject & {
  spec?: PodSpecLike & { replicas?: number; template?: { spec?: PodSpecLike } };
  status?: { phase?: string };
};

const WORKLOAD_KINDS: Array<[apiVersion: string, kind: string]> = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['batch/v1', 'Job'],
];

function label(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.name ?? '?'}`;
}

function mountsClaim(spec: PodSpecLike | undefined, claimName: string): boolean {
  return (spec?.volumes ?? []).some((volume) => volume.persistentVolumeClaim?.claimName === claimName);
}

export class WorkloadProbe {
  constructor(private readonly kube: KubeClusters) {}

  /** Workloads and live pods in the namespace (finished pods do not count). */
  async running(cluster: string, namespace: string): Promise<string[]> {
    const client = this.kube.client(cluster);
    const found: string[] = [];
    for (const [apiVersion, kind] of WORKLOAD_KINDS) {
      const list = await client.list<Workload>(apiVersion, kind, { namespace });
      found.push(...list.items.map(label));
    }
    const pods = await client.list<Workload>('v1', 'Pod', { namespace });
    found.push(
      ...pods.items
        .filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed')
        .map(label),
    );
    return found.sort();
  }

  /** Pods and workload templates in the namespace that mount the claim. */
  async claimUsers(cluster: string, namespace: string, claimName: string): Promise<string[]> {
    const client = this.kube.client(cluster);
    const found: string[] = [];
    for (const [apiVersion, kind] of WORKLOAD_KINDS) {
      const list = await client.list<Workload>(apiVersion, kind, { namespace });
      found.push(...list.items.filter((w) => mountsClaim(w.spec?.template?.spec, claimName)).map(label));
    }
    const pods = await client.list<Workload>('v1', 'Pod', { namespace });
    found.push(
      ...pods.items
        .filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed')
        .filter((pod) => mountsClaim(pod.spec, claimName))
        .map(label),
    );
    return found.sort();
  }
}
