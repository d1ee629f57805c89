/**
 * The Kubernetes contract: what Stratum relies on from an API server, written once and run against
 * both the sandbox cluster and the real kube-apiserver bench (issue #3), so the sandbox cannot
 * drift. Each case is a plain async function that throws on a violation, so a test can also run
 * one case against a deliberately wrong sandbox and see it fail.
 */
import { expect } from '@jest/globals';
import { waitFor } from '@stratum/util';
import {
  ConflictError,
  deploymentReadiness,
  FIXED_IPS_ANNOTATION,
  InvalidError,
  type KubeClient,
  type KubeObject,
  MULTUS_NETWORK_STATUS,
  MULTUS_NETWORKS,
  NotFoundError,
  type NodeSimulator,
  type ObjectRef,
  SIM_ANNOTATIONS,
  waitForReady,
  type WatchEvent,
} from '../../src';

export interface ContractContext {
  /** Field manager "stratum-contract". */
  client: KubeClient;
  /** The same cluster with another field manager ("stratum-other"). */
  other: KubeClient;
  simulator: NodeSimulator;
  /**
   * A fresh namespace whose pods land on this simulator's nodes, and only on those that also match
   * `nodeSelector` (PodNodeSelector: the namespace's `scheduler.alpha.kubernetes.io/node-selector`).
   */
  namespace(options?: { nodeSelector?: Record<string, string> }): Promise<string>;
}

export interface ContractCase {
  name: string;
  run(ctx: ContractContext): Promise<void>;
}

const configMap = (
  namespace: string,
  name: string,
  data: Record<string, string>,
  extra: Partial<KubeObject> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, ...(extra.metadata ?? {}) },
  data,
});

const deployment = (
  namespace: string,
  name: string,
  replicas: number,
  annotations: Record<string, string> = {},
): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name }, annotations },
      spec: { containers: [{ name: 'app', image: 'registry.test/app:1' }] },
    },
  },
});

const ref = (kind: string, namespace: string, name: string, apiVersion = 'v1') => ({
  apiVersion,
  kind,
  namespace,
  name,
});

/** Collects watch events until `until` holds for them (or the deadline). */
async function watchUntil(
  client: KubeClient,
  apiVersion: string,
  kind: string,
  options: { namespace: string; resourceVersion: string; fieldSelector?: string },
  act: () => Promise<void>,
  until: (events: Array<WatchEvent & { type: 'ADDED' | 'MODIFIED' | 'DELETED' }>) => boolean,
  timeoutMs = 15_000,
) {
  const events: Array<WatchEvent & { type: 'ADDED' | 'MODIFIED' | 'DELETED' }> = [];
  const handle = await client.watch(apiVersion, kind, options, (event) => {
    if (event.type !== 'BOOKMARK') events.push(event);
  });
  try {
    await act();
    await waitFor(() => until(events), {
      timeoutMs,
      description: `watch events on ${kind} (${events.map((e) => e.type).join(',')})`,
    });
    return events;
  } finally {
    handle.stop();
  }
}

type Phased = KubeObject & { spec?: Record<string, unknown>; status?: { phase?: string } };

/** Polls until the object reaches the phase; the real binder may wait for its periodic resync. */
async function inPhase(
  client: KubeClient,
  ref: ObjectRef,
  phase: string,
  timeoutMs = 30_000,
): Promise<Phased> {
  return waitFor(
    async () => {
      const object = await client.get<Phased>(ref);
      return object.status?.phase === phase && object;
    },
    { timeoutMs, intervalMs: 200, description: `${ref.kind} ${ref.name} to be ${phase}` },
  );
}

export const kubeContractCases: ContractCase[] = [
  {
    name: 'create returns the stored object, get reads it back',
    async run({ client, namespace }) {
      const ns = await namespace();
      const created = await client.create(configMap(ns, 'settings', { mode: 'a' }));
      expect(created.metadata?.uid).toEqual(expect.any(String));
      expect(created.metadata?.resourceVersion).toEqual(expect.any(String));
      expect(created.metadata?.creationTimestamp).toEqual(expect.any(String));
      const read = await client.get(ref('ConfigMap', ns, 'settings'));
      expect(read.data).toEqual({ mode: 'a' });
      expect(read.metadata?.uid).toBe(created.metadata?.uid);
      const listed = await client.list('v1', 'ConfigMap', { namespace: ns });
      expect(listed.items.map((i) => i.metadata?.name)).toContain('settings');
      expect(listed.items.every((i) => i.kind === 'ConfigMap')).toBe(true);
    },
  },
  {
    name: 'create of an existing object is a conflict (AlreadyExists), and changes nothing',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.create(configMap(ns, 'twice', { v: '1' }));
      const second = client.create(configMap(ns, 'twice', { v: '2' }));
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      await expect(second).rejects.toMatchObject({ status: 409, reason: 'AlreadyExists' });
      expect((await client.get(ref('ConfigMap', ns, 'twice'))).data).toEqual({ v: '1' });
    },
  },
  {
    name: 'not found: get, delete and create in a missing namespace',
    async run({ client, namespace }) {
      const ns = await namespace();
      await expect(client.get(ref('ConfigMap', ns, 'missing'))).rejects.toBeInstanceOf(NotFoundError);
      expect(await client.find(ref('ConfigMap', ns, 'missing'))).toBeUndefined();
      expect(await client.delete(ref('ConfigMap', ns, 'missing'))).toBe(false);
      await expect(client.create(configMap(`${ns}-absent`, 'x', {}))).rejects.toBeInstanceOf(NotFoundError);
    },
  },
  {
    name: 'invalid objects are refused with the offending field',
    async run({ client, namespace }) {
      const ns = await namespace();
      const badName = client.create(configMap(ns, 'Not_A_DNS_Name', {}));
      await expect(badName).rejects.toBeInstanceOf(InvalidError);
      await expect(badName).rejects.toMatchObject({ status: 422, reason: 'Invalid' });
      const bad = deployment(ns, 'mismatch', 1) as {
        spec: { selector: { matchLabels: Record<string, string> } };
      } & KubeObject;
      bad.spec.selector.matchLabels = { app: 'other' };
      const error = (await client.create(bad).catch((e: unknown) => e)) as InvalidError;
      expect(error).toBeInstanceOf(InvalidError);
      expect(error.causes.map((c) => c.field)).toContain('spec.template.metadata.labels');
      await expect(client.find(ref('Deployment', ns, 'mismatch', 'apps/v1'))).resolves.toBeUndefined();
    },
  },
  {
    name: 'server-side apply creates, updates, removes fields it no longer sets, and conflicts across managers unless forced',
    async run({ client, other, namespace }) {
      const ns = await namespace();
      const first = await client.apply(configMap(ns, 'applied', { a: '1', b: '2' }));
      expect(first.data).toEqual({ a: '1', b: '2' });
      const again = await client.apply(configMap(ns, 'applied', { a: '1', b: '2' }));
      expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion); // no-op apply
      const dropped = await client.apply(configMap(ns, 'applied', { a: '1' }));
      expect(dropped.data).toEqual({ a: '1' });
      const conflict = other.apply(configMap(ns, 'applied', { a: 'changed' }));
      await expect(conflict).rejects.toBeInstanceOf(ConflictError);
      await expect(conflict).rejects.toMatchObject({ status: 409, reason: 'Conflict' });
      const sharedOk = await other.apply(configMap(ns, 'applied', { a: '1', c: '3' }));
      expect(sharedOk.data).toEqual({ a: '1', c: '3' });
      const forced = await other.apply(configMap(ns, 'applied', { a: 'forced', c: '3' }), { force: true });
      expect(forced.data).toEqual({ a: 'forced', c: '3' });
      const managers = (forced.metadata?.managedFields as Array<{ manager: string; operation: string }>).map(
        (m) => `${m.manager}:${m.operation}`,
      );
      expect(managers).toContain('stratum-other:Apply');
    },
  },
  {
    name: 'replace with a stale resourceVersion is a conflict',
    async run({ client, namespace }) {
      const ns = await namespace();
      const created = await client.create(configMap(ns, 'versioned', { v: '1' }));
      await client.replace({ ...created, data: { v: '2' } });
      const stale = client.replace({ ...created, data: { v: '3' } });
      await expect(stale).rejects.toBeInstanceOf(ConflictError);
      await expect(stale).rejects.toMatchObject({ reason: 'Conflict' });
      expect((await client.get(ref('ConfigMap', ns, 'versioned'))).data).toEqual({ v: '2' });
    },
  },
  {
    name: 'generation moves with the spec, not with status or metadata',
    async run({ client, namespace }) {
      const ns = await namespace();
      const created = await client.apply(deployment(ns, 'gen', 0));
      expect(created.metadata?.generation).toBe(1);
      const labelled = await client.mergePatch(ref('Deployment', ns, 'gen', 'apps/v1'), {
        metadata: { labels: { tier: 'web' } },
      });
      expect(labelled.metadata?.generation).toBe(1);
      const respec = await client.mergePatch(ref('Deployment', ns, 'gen', 'apps/v1'), {
        spec: { replicas: 0, minReadySeconds: 1 },
      });
      expect(respec.metadata?.generation).toBe(2);
    },
  },
  {
    name: 'a watch from a resourceVersion sees create, update and delete in order',
    async run({ client, namespace }) {
      const ns = await namespace();
      const start = await client.list('v1', 'ConfigMap', { namespace: ns });
      const events = await watchUntil(
        client,
        'v1',
        'ConfigMap',
        { namespace: ns, resourceVersion: start.resourceVersion, fieldSelector: 'metadata.name=watched' },
        async () => {
          await client.create(configMap(ns, 'watched', { v: '1' }));
          await client.mergePatch(ref('ConfigMap', ns, 'watched'), { data: { v: '2' } });
          await client.delete(ref('ConfigMap', ns, 'watched'));
        },
        (seen) => seen.some((e) => e.type === 'DELETED'),
      );
      expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
      expect((events[1].object.data as Record<string, string>).v).toBe('2');
      expect(events.every((e) => e.object.kind === 'ConfigMap')).toBe(true);
    },
  },
  {
    name: 'the scale subresource changes replicas, and a watch sees it',
    async run({ client, namespace }) {
      const ns = await namespace();
      const created = await client.create(deployment(ns, 'scalable', 1));
      const events = await watchUntil(
        client,
        'apps/v1',
        'Deployment',
        {
          namespace: ns,
          resourceVersion: created.metadata!.resourceVersion!,
          fieldSelector: 'metadata.name=scalable',
        },
        async () => {
          const scaled = await client.scale(ref('Deployment', ns, 'scalable', 'apps/v1'), 3);
          expect(scaled.replicas).toBe(3);
        },
        (seen) => seen.some((e) => (e.object.spec as { replicas?: number }).replicas === 3),
      );
      expect(events[0].type).toBe('MODIFIED');
      const scale = await client.getScale(ref('Deployment', ns, 'scalable', 'apps/v1'));
      expect(scale.replicas).toBe(3);
      expect(scale.selector).toBe('app=scalable');
    },
  },
  {
    name: 'delete with a finalizer waits until the finalizer is removed',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.create(configMap(ns, 'guarded', {}, { metadata: { finalizers: ['stratum.io/cleanup'] } }));
      expect(await client.delete(ref('ConfigMap', ns, 'guarded'))).toBe(true);
      const pending = await client.get(ref('ConfigMap', ns, 'guarded'));
      expect(pending.metadata?.deletionTimestamp).toEqual(expect.any(String));
      await client.mergePatch(ref('ConfigMap', ns, 'guarded'), { metadata: { finalizers: null } });
      await waitFor(async () => (await client.find(ref('ConfigMap', ns, 'guarded'))) === undefined, {
        description: 'the finalized ConfigMap to disappear',
      });
    },
  },
  {
    name: 'a Deployment becomes ready through the node simulator, pods get node IPs and log files',
    async run({ client, simulator, namespace }) {
      const ns = await namespace();
      await client.apply(deployment(ns, 'web', 2));
      const ready = await waitForReady(client, ref('Deployment', ns, 'web', 'apps/v1'), 30_000);
      expect(deploymentReadiness(ready!).ready).toBe(true);
      const pods = await client.list<KubeObject & { status?: { podIP?: string; phase?: string } }>(
        'v1',
        'Pod',
        { namespace: ns, labelSelector: 'app=web' },
      );
      expect(pods.items).toHaveLength(2);
      for (const pod of pods.items) {
        expect(pod.status?.phase).toBe('Running');
        expect(pod.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
        const log = simulator.containerLogPath(ns, pod.metadata!.name!, 'app');
        const { readFile } = await import('node:fs/promises');
        expect(await readFile(log, 'utf8')).toMatch(/^\S+Z stdout F started registry\.test\/app:1$/m);
      }
    },
  },
  {
    name: 'tenant network: a pod gets its requested fixed IP from the NetworkAttachmentDefinition subnet; a taken IP is refused',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.create({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'tenant-net', namespace: ns },
        spec: {
          config: JSON.stringify({
            cniVersion: '0.3.1',
            type: 'macvlan',
            master: 'eth1',
            mode: 'bridge',
            ipam: { type: 'whereabouts', range: '10.77.0.0/24', gateway: '10.77.0.1' },
          }),
        },
      });
      const pod = (name: string, ips?: string[]): KubeObject => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: ns,
          annotations: {
            [MULTUS_NETWORKS]: JSON.stringify([{ name: 'tenant-net', ...(ips ? { ips } : {}) }]),
          },
        },
        spec: { containers: [{ name: 'app', image: 'registry.test/app:1' }] },
      });
      await client.create(pod('fixed', ['10.77.0.50/24']));
      await client.create(pod('dynamic'));
      const ipOf = (name: string) =>
        waitFor(
          async () =>
            (await client.get<KubeObject & { status?: { podIP?: string } }>(ref('Pod', ns, name))).status
              ?.podIP,
          {
            timeoutMs: 20_000,
            description: `pod ${name} to get an IP`,
          },
        );
      expect(await ipOf('fixed')).toBe('10.77.0.50');
      expect(await ipOf('dynamic')).toBe('10.77.0.2'); // .1 is the gateway
      const status = JSON.parse(
        (await client.get(ref('Pod', ns, 'fixed'))).metadata!.annotations![MULTUS_NETWORK_STATUS],
      ) as Array<{ name: string; ips: string[] }>;
      expect(status.find((s) => s.name === `${ns}/tenant-net`)?.ips).toEqual(['10.77.0.50']);
      await client.create(pod('clash', ['10.77.0.50/24']));
      let clash: KubeObject | undefined;
      const waiting = await waitFor(
        async () => {
          clash = await client.get<
            KubeObject & {
              status?: {
                containerStatuses?: Array<{ state?: { waiting?: { reason?: string; message?: string } } }>;
              };
            }
          >(ref('Pod', ns, 'clash'));
          return (
            clash as {
              status?: {
                containerStatuses?: Array<{ state?: { waiting?: { reason?: string; message?: string } } }>;
              };
            }
          ).status?.containerStatuses?.[0]?.state?.waiting;
        },
        { timeoutMs: 20_000, description: 'the clashing pod to report why it cannot start' },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}; pod: ${JSON.stringify({ spec: { nodeName: (clash?.spec as { nodeName?: string })?.nodeName }, status: clash?.status })}`,
        );
      });
      expect(waiting.reason).toBe('ContainerCreating');
      expect(waiting.message).toContain('10.77.0.50 is already in use');
    },
  },
  {
    name: 'tenant network: each replica gets the first free address of its stratum.io/fixed-ips list, and a waiting replica starts once one is released (R-NW-1)',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.create({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'tenant-net', namespace: ns },
        spec: {
          config: JSON.stringify({
            cniVersion: '0.3.1',
            type: 'macvlan',
            master: 'eth1',
            ipam: { type: 'whereabouts', range: '10.78.0.0/24', gateway: '10.78.0.1' },
          }),
        },
      });
      // another workload holds the first address of the list
      await client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'squatter',
          namespace: ns,
          annotations: {
            [MULTUS_NETWORKS]: JSON.stringify([{ name: 'tenant-net', ips: ['10.78.0.10/24'] }]),
          },
        },
        spec: { containers: [{ name: 'app', image: 'registry.test/app:1' }] },
      });
      const flatIps = async () => {
        const pods = await client.list<KubeObject & { status?: { podIP?: string } }>('v1', 'Pod', {
          namespace: ns,
          labelSelector: 'app=edge',
        });
        return pods.items
          .map((p) => p.status?.podIP)
          .filter((ip): ip is string => !!ip && ip.startsWith('10.78.'));
      };
      await waitFor(
        async () =>
          (await client.get<KubeObject & { status?: { podIP?: string } }>(ref('Pod', ns, 'squatter'))).status
            ?.podIP === '10.78.0.10',
        { timeoutMs: 20_000, description: 'the squatter to hold 10.78.0.10' },
      );
      await client.apply(
        deployment(ns, 'edge', 2, {
          [MULTUS_NETWORKS]: JSON.stringify([{ name: 'tenant-net' }]),
          [FIXED_IPS_ANNOTATION]: '10.78.0.10,10.78.0.11',
        }),
      );
      // one replica gets .11; the other waits, as no address of its list is free
      await waitFor(async () => (await flatIps()).join() === '10.78.0.11', {
        timeoutMs: 20_000,
        description: 'the first replica to get 10.78.0.11',
      });
      const waiting = await waitFor(
        async () => {
          const pods = await client.list<
            KubeObject & {
              status?: { containerStatuses?: Array<{ state?: { waiting?: { message?: string } } }> };
            }
          >('v1', 'Pod', { namespace: ns, labelSelector: 'app=edge' });
          return pods.items
            .map((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.message)
            .find((m) => m?.includes('no fixed IP is free'));
        },
        { timeoutMs: 20_000, description: 'the second replica to wait for a fixed IP' },
      );
      expect(waiting).toContain('10.78.0.10 is in use by');
      await client.delete(ref('Pod', ns, 'squatter'), { gracePeriodSeconds: 0 });
      await waitFor(async () => (await flatIps()).sort().join() === '10.78.0.10,10.78.0.11', {
        timeoutMs: 20_000,
        description: 'the second replica to get the released 10.78.0.10',
      });
      const ready = await waitForReady(client, ref('Deployment', ns, 'edge', 'apps/v1'), 30_000);
      expect(deploymentReadiness(ready!).ready).toBe(true);
    },
  },
  {
    name: 'the simulator fails pods on request: image pull error, crash loop, never ready',
    async run({ client, namespace }) {
      const ns = await namespace();
      for (const failure of ['image-pull', 'crash-loop', 'never-ready']) {
        await client.apply(deployment(ns, failure, 1, { [SIM_ANNOTATIONS.failure]: failure }));
      }
      type PodStatus = KubeObject & {
        status?: {
          phase?: string;
          containerStatuses?: Array<{
            ready?: boolean;
            state?: { waiting?: { reason?: string }; running?: object };
          }>;
        };
      };
      const statusOf = (app: string) =>
        waitFor(
          async () => {
            const [pod] = (
              await client.list<PodStatus>('v1', 'Pod', { namespace: ns, labelSelector: `app=${app}` })
            ).items;
            return pod?.status?.containerStatuses?.[0] ? pod.status : undefined;
          },
          { timeoutMs: 30_000, description: `the ${app} pod's container status` },
        );
      expect((await statusOf('image-pull')).containerStatuses![0].state?.waiting?.reason).toBe(
        'ErrImagePull',
      );
      expect((await statusOf('crash-loop')).containerStatuses![0].state?.waiting?.reason).toBe(
        'CrashLoopBackOff',
      );
      const neverReady = await statusOf('never-ready');
      expect(neverReady.phase).toBe('Running');
      expect(neverReady.containerStatuses![0].ready).toBe(false);
      const deploymentStatus = await client.get(ref('Deployment', ns, 'never-ready', 'apps/v1'));
      expect(deploymentReadiness(deploymentStatus).ready).toBe(false);
    },
  },
  {
    name: "a namespace's node selector confines its pods to the matching nodes",
    async run({ client, namespace }) {
      const ns = await namespace({ nodeSelector: { 'stratum.io/rack': 'rack-2' } });
      await client.apply(deployment(ns, 'pinned', 3));
      await waitForReady(client, ref('Deployment', ns, 'pinned', 'apps/v1'), 30_000);
      const pods = await client.list<
        KubeObject & { spec?: { nodeName?: string; nodeSelector?: Record<string, string> } }
      >('v1', 'Pod', { namespace: ns });
      expect(pods.items).toHaveLength(3);
      for (const pod of pods.items) {
        expect(pod.spec?.nodeName).toMatch(/-node-2$/);
        expect(pod.spec?.nodeSelector?.['stratum.io/rack']).toBe('rack-2');
      }
    },
  },
  {
    name: 'deleting a Deployment removes its ReplicaSets and Pods (garbage collection)',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.apply(deployment(ns, 'doomed', 2));
      await waitForReady(client, ref('Deployment', ns, 'doomed', 'apps/v1'), 30_000);
      expect((await client.list('apps/v1', 'ReplicaSet', { namespace: ns })).items).toHaveLength(1);
      expect(await client.delete(ref('Deployment', ns, 'doomed', 'apps/v1'))).toBe(true);
      await waitFor(
        async () =>
          (await client.list('apps/v1', 'ReplicaSet', { namespace: ns })).items.length === 0 &&
          (await client.list('v1', 'Pod', { namespace: ns })).items.length === 0,
        { timeoutMs: 30_000, description: 'the ReplicaSet and Pods of the deleted Deployment to go' },
      );
    },
  },
  {
    name: 'a StatefulSet gets ordered pod names and becomes ready',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.apply({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'ledger', namespace: ns },
        spec: {
          replicas: 2,
          serviceName: 'ledger',
          selector: { matchLabels: { app: 'ledger' } },
          template: {
            metadata: { labels: { app: 'ledger' } },
            spec: { containers: [{ name: 'db', image: 'registry.test/db:1' }] },
          },
        },
      });
      await waitForReady(client, ref('StatefulSet', ns, 'ledger', 'apps/v1'), 45_000);
      const names = (await client.list('v1', 'Pod', { namespace: ns })).items
        .map((p) => p.metadata?.name)
        .sort();
      expect(names).toEqual(['ledger-0', 'ledger-1']);
    },
  },
  {
    name: 'deleting a namespace removes what is in it, then the namespace',
    async run({ client, namespace }) {
      const ns = await namespace();
      await client.create(configMap(ns, 'inside', { v: '1' }));
      await client.apply(deployment(ns, 'inside', 1));
      await waitForReady(client, ref('Deployment', ns, 'inside', 'apps/v1'), 30_000);
      expect(await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns })).toBe(true);
      const terminating = await client.find<KubeObject & { status?: { phase?: string } }>({
        apiVersion: 'v1',
        kind: 'Namespace',
        name: ns,
      });
      if (terminating) expect(terminating.status?.phase).toBe('Terminating');
      await waitFor(
        async () => (await client.find({ apiVersion: 'v1', kind: 'Namespace', name: ns })) === undefined,
        {
          timeoutMs: 45_000,
          intervalMs: 200,
          description: `namespace ${ns} to be deleted`,
        },
      );
      await expect(client.create(configMap(ns, 'after', {}))).rejects.toBeInstanceOf(NotFoundError);
    },
  },
  {
    name: 'the simulator serves usage set per workload in the Summary API shape, and writes app logs to volume host paths',
    async run({ client, simulator, namespace }) {
      const ns = await namespace();
      await client.apply({
        ...deployment(ns, 'busy', 1),
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'busy' } },
          template: {
            metadata: { labels: { app: 'busy' } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'registry.test/app:1',
                  volumeMounts: [{ name: 'logs', mountPath: '/app/logs' }],
                },
              ],
              volumes: [{ name: 'logs', emptyDir: {} }],
            },
          },
        },
      });
      await waitForReady(client, ref('Deployment', ns, 'busy', 'apps/v1'), 30_000);
      simulator.setUsage(
        { namespace: ns, labels: { app: 'busy' } },
        { cpuMillicores: 250, memoryBytes: 64 * 1024 * 1024 },
      );
      const [pod] = (
        await client.list<KubeObject & { spec?: { nodeName?: string } }>('v1', 'Pod', {
          namespace: ns,
          labelSelector: 'app=busy',
        })
      ).items;
      const response = await fetch(simulator.nodeSummaryUrl(pod.spec!.nodeName!));
      expect(response.status).toBe(200);
      const summary = (await response.json()) as {
        node: { nodeName: string; cpu: { usageNanoCores: number } };
        pods: Array<{
          podRef: { name: string; namespace: string };
          cpu: { usageNanoCores: number };
          memory: { workingSetBytes: number };
          network: { rxBytes: number };
          volume: Array<{ name: string }>;
        }>;
      };
      expect(summary.node.nodeName).toBe(pod.spec!.nodeName);
      const stats = summary.pods.find(
        (p) => p.podRef.namespace === ns && p.podRef.name === pod.metadata!.name,
      );
      expect(stats?.cpu.usageNanoCores).toBe(250_000_000);
      expect(stats?.memory.workingSetBytes).toBe(64 * 1024 * 1024);
      // A real cluster also mounts the service-account token volume.
      expect(stats?.volume.map((v) => v.name)).toContain('logs');
      expect(summary.node.cpu.usageNanoCores).toBeGreaterThanOrEqual(250_000_000);
      const path = await simulator.writeAppLog(ns, pod.metadata!.name!, 'app', '/app/logs/app.log', [
        'hello from the app',
      ]);
      expect(path).toContain(
        `/var/lib/kubelet/pods/${pod.metadata!.uid}/volumes/kubernetes.io~empty-dir/logs/app.log`,
      );
    },
  },
  {
    name: 'a CSIDriver gets the 1.20 defaults, re-applying it is a no-op, and its spec is immutable',
    async run({ client, namespace }) {
      const ns = await namespace();
      const driver = (name: string, spec: Record<string, unknown>): KubeObject => ({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSIDriver',
        metadata: { name },
        spec,
      });
      // Cluster-scoped: named after the namespace so suites sharing the real bench do not collide.
      const nfs = driver(`${ns}.nfs.csi.stratum.test`, {
        attachRequired: false,
        volumeLifecycleModes: ['Persistent'],
      });
      const bare = driver(`${ns}.bare.csi.stratum.test`, {});
      try {
        const applied = await client.apply(nfs);
        expect(applied.spec).toEqual({
          attachRequired: false,
          podInfoOnMount: false,
          volumeLifecycleModes: ['Persistent'],
          fsGroupPolicy: 'ReadWriteOnceWithFSType',
        });
        expect(applied.metadata?.generation).toBeUndefined();
        // volumeLifecycleModes is a set (values, not the whole list, are owned); defaults are nobody's.
        const owned = (applied.metadata?.managedFields as Array<{ manager: string; fieldsV1: unknown }>).find(
          (m) => m.manager === 'stratum-contract',
        );
        expect(owned?.fieldsV1).toEqual({
          'f:spec': { 'f:attachRequired': {}, 'f:volumeLifecycleModes': { 'v:"Persistent"': {} } },
        });
        const again = await client.apply(nfs);
        expect(again.metadata?.resourceVersion).toBe(applied.metadata?.resourceVersion);

        // (Re-applying an empty spec is not a no-op on the real 1.20 server: not asserted.)
        expect((await client.apply(bare)).spec).toEqual({
          attachRequired: true,
          podInfoOnMount: false,
          volumeLifecycleModes: ['Persistent'],
          fsGroupPolicy: 'ReadWriteOnceWithFSType',
        });

        // 1.20: the whole spec is immutable, reported at `spec`.
        const changed = (await client
          .apply(driver(nfs.metadata!.name!, { attachRequired: true, volumeLifecycleModes: ['Persistent'] }))
          .catch((e: unknown) => e)) as InvalidError;
        expect(changed).toBeInstanceOf(InvalidError);
        expect(changed.causes.map((c) => c.field)).toEqual(['spec']);
        expect(changed.causes[0].message).toMatch(
          /^Invalid value: storage\.CSIDriverSpec\{.*\}: field is immutable$/,
        );
      } finally {
        for (const { metadata } of [nfs, bare])
          await client.delete({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', name: metadata!.name! });
      }
    },
  },
  {
    name: 'a headless Service without a selector keeps clusterIP None, and its Endpoints are served as applied',
    async run({ client, namespace }) {
      const ns = await namespace();
      const service: KubeObject = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'nfs', namespace: ns },
        // 1.20's server-side apply refuses (500) a Service port without its `protocol` list-map key.
        spec: { clusterIP: 'None', ports: [{ name: 'nfs', port: 2049, protocol: 'TCP' }] },
      };
      const applied = await client.apply(service);
      expect(applied.spec).toEqual({
        clusterIP: 'None',
        clusterIPs: ['None'],
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ports: [{ name: 'nfs', protocol: 'TCP', port: 2049, targetPort: 2049 }],
      });
      expect((await client.apply(service)).metadata?.resourceVersion).toBe(applied.metadata?.resourceVersion);

      const endpoints: KubeObject = {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'nfs', namespace: ns },
        subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'nfs', port: 2049 }] }],
      };
      const served = await client.apply(endpoints);
      expect(served.subsets).toEqual([
        { addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'nfs', port: 2049, protocol: 'TCP' }] },
      ]);
      expect((await client.apply(endpoints)).metadata?.resourceVersion).toBe(
        served.metadata?.resourceVersion,
      );
      // No selector: the endpoints controller leaves them alone.
      expect((await client.get(ref('Endpoints', ns, 'nfs'))).subsets).toEqual(served.subsets);
    },
  },
  {
    name: 'a static PersistentVolume and claim pre-bound both ways bind; deleting the claim releases the volume',
    async run({ client, namespace }) {
      const ns = await namespace();
      // The resource-manager's shape (apps/resource-manager nfs-manifests volumeManifests).
      const storageClassName = `${ns}-static`;
      const pvName = `${ns}-vol-data`;
      const volume: KubeObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: pvName },
        spec: {
          capacity: { storage: '2Gi' },
          accessModes: ['ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName,
          mountOptions: ['nfsvers=4.1'],
          csi: {
            driver: 'nfs.csi.k8s.io',
            volumeHandle: `nfs.test#/exports#${ns}`,
            volumeAttributes: { share: '/exports' },
          },
          claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'vol-data' },
        },
      };
      const claim: KubeObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'vol-data', namespace: ns },
        spec: {
          accessModes: ['ReadWriteMany'],
          storageClassName,
          volumeName: pvName,
          resources: { requests: { storage: '1Gi' } },
        },
      };
      const pvRef: ObjectRef = { apiVersion: 'v1', kind: 'PersistentVolume', name: pvName };
      const claimRef = ref('PersistentVolumeClaim', ns, 'vol-data');
      try {
        const created = await client.apply(volume);
        expect(created.status).toEqual({ phase: 'Pending' });
        // StorageObjectInUseProtection admission.
        expect(created.metadata?.finalizers).toEqual(['kubernetes.io/pv-protection']);
        expect(created.spec).toMatchObject({
          volumeMode: 'Filesystem',
          persistentVolumeReclaimPolicy: 'Retain',
        });
        await inPhase(client, pvRef, 'Available');
        const pending = await client.apply(claim);
        expect(pending.status).toEqual({ phase: 'Pending' });
        expect(pending.spec).toMatchObject({ volumeMode: 'Filesystem' });
        expect(pending.metadata?.finalizers).toEqual(['kubernetes.io/pvc-protection']);

        const boundClaim = await inPhase(client, claimRef, 'Bound');
        expect(boundClaim.status).toEqual({
          phase: 'Bound',
          accessModes: ['ReadWriteMany'],
          capacity: { storage: '2Gi' },
        });
        expect(boundClaim.metadata?.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes' });
        const bound = await inPhase(client, pvRef, 'Bound');
        expect(bound.spec?.['claimRef']).toEqual({
          kind: 'PersistentVolumeClaim',
          namespace: ns,
          name: 'vol-data',
          uid: pending.metadata?.uid,
          apiVersion: 'v1',
          resourceVersion: expect.any(String),
        });
        expect(bound.metadata?.annotations).toBeUndefined();
        // claimRef is a granular struct: the applier keeps its four fields, the controller owns uid
        // and resourceVersion, so re-applying both objects after binding changes nothing.
        const reapplied = await client.apply<Phased>(volume);
        expect(reapplied.metadata?.resourceVersion).toBe(bound.metadata?.resourceVersion);
        expect(reapplied.spec?.['claimRef']).toEqual(bound.spec?.['claimRef']);
        const controllerFields = (
          reapplied.metadata?.managedFields as Array<{ manager: string; fieldsV1: unknown }>
        ).find((m) => m.manager === 'kube-controller-manager');
        expect(controllerFields?.fieldsV1).toEqual({
          'f:spec': { 'f:claimRef': { 'f:resourceVersion': {}, 'f:uid': {} } },
          'f:status': { 'f:phase': {} },
        });
        expect((await client.apply(claim)).metadata?.resourceVersion).toBe(
          boundClaim.metadata?.resourceVersion,
        );

        // No pod mounts the claim: the pvc-protection controller lets it go.
        await client.delete(claimRef);
        const released = await inPhase(client, pvRef, 'Released');
        expect(released.spec?.['claimRef']).toMatchObject({ name: 'vol-data', uid: pending.metadata?.uid });
        expect(await client.find(claimRef)).toBeUndefined();
      } finally {
        await client.delete(pvRef);
      }
    },
  },
];
