/**
 * The environment's objects (issue #4 groundwork) on the real kube-apiserver bench (second cluster)
 * and on the sandbox: the API server accepts every one, applying them again changes nothing, and a
 * pod asking for a fixed address on the tenant network gets it from the subnet (R-NW-1, seed 000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KubeClient,
  KubeClusters,
  type KubeObject,
  MULTUS_NETWORKS,
  NodeSimulator,
  SandboxCluster,
} from '@stratum/kube';
import { sharedKubeBench } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import {
  environmentManifests,
  type EnvironmentManifestInput,
  TENANT_NETWORK_ATTACHMENT,
} from '../src/environments/environment-manifests';

const suite = `rm${process.pid}`;
const input: EnvironmentManifestInput = {
  tenant: {
    id: `tenant-${suite}`,
    name: `retail-${suite}`,
    developerGroups: ['stratum:retail:developer'],
    viewerGroups: ['stratum:retail:viewer'],
    quota: { cpu: '4', memory: '8Gi', pods: 20 },
    containerDefaults: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '256Mi' },
  },
  network: {
    id: 'n-dmz',
    name: 'dmz',
    cidr: '10.88.0.0/24',
    gateway: '10.88.0.1',
    vlan: 188,
    parentInterface: 'eth1',
    securityDomain: 'dmz',
    isolationDomain: 'internet-facing',
  },
  members: [
    { userId: 'u-1', userName: 'alice', roles: ['tenant-admin'] },
    { userId: 'u-2', userName: 'bob', roles: ['restricted-member', 'read-only'] },
  ],
  registry: { server: 'registry.bank.test', username: 'pull', password: 'not-a-real-secret' },
};

type PodView = KubeObject & {
  status?: { podIP?: string };
  spec?: { containers?: Array<{ resources?: { requests?: Record<string, string> } }> };
};

async function exercise(client: KubeClient, simulator: NodeSimulator, pinToSuiteNodes: boolean) {
  const objects = environmentManifests(input);
  const namespace = objects[0].metadata!.name!;
  const first: KubeObject[] = [];
  for (const object of objects) first.push(await client.apply(object, { force: true }));
  if (pinToSuiteNodes) {
    // Test-only: the shared bench keeps this suite's pods on its own simulated nodes.
    await client.mergePatch(
      { apiVersion: 'v1', kind: 'Namespace', name: namespace },
      {
        metadata: {
          annotations: { 'scheduler.alpha.kubernetes.io/node-selector': `stratum.io/bench-suite=${suite}` },
        },
      },
    );
  }
  // Idempotent: applying the same objects again changes nothing of ours. (The resourceVersion alone
  // cannot say: controllers write too, e.g. the token controller adds secrets to the ServiceAccount.)
  const ours = (object: KubeObject) =>
    JSON.stringify(
      (object.metadata?.managedFields as Array<{ manager: string; operation: string }> | undefined)?.filter(
        (entry) => entry.manager === client.fieldManager && entry.operation === 'Apply',
      ),
    );
  for (const [i, object] of objects.entries()) {
    const again = await client.apply(object, { force: true });
    expect(`${object.kind} ${ours(again)}`).toBe(`${object.kind} ${ours(first[i])}`);
    expect(ours(again)).not.toBe('[]');
  }
  const pod = (name: string, ips?: string[]): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      annotations: {
        [MULTUS_NETWORKS]: JSON.stringify([{ name: TENANT_NETWORK_ATTACHMENT, ...(ips ? { ips } : {}) }]),
      },
    },
    spec: { containers: [{ name: 'app', image: 'registry.bank.test/retail/teller:1' }] },
  });
  await client.create(pod('teller-fixed', ['10.88.0.10/24']));
  await client.create(pod('teller-any'));
  const ipOf = (name: string) =>
    waitFor(
      async () =>
        (await client.get<PodView>({ apiVersion: 'v1', kind: 'Pod', namespace, name })).status?.podIP,
      {
        timeoutMs: 30_000,
        description: `pod ${name} to get an address`,
      },
    );
  expect(await ipOf('teller-fixed')).toBe('10.88.0.10');
  expect(await ipOf('teller-any')).toBe('10.88.0.2'); // .1 is the gateway
  expect(simulator.problems).toEqual([]);
  return { namespace };
}

describe('environment manifests on the real kube-apiserver bench (cluster bench-b)', () => {
  const logRoot = mkdtempSync(join(tmpdir(), 'stratum-env-nodes-'));
  let client: KubeClient;
  let simulator: NodeSimulator;
  let namespace: string | undefined;
  let clusters: KubeClusters;
  let simulatorClusters: KubeClusters;
  beforeAll(async () => {
    clusters = KubeClusters.fromFile(sharedKubeBench().kubeconfigPath, {
      fieldManager: 'stratum-resource-manager',
    });
    client = clusters.client('bench-b');
    simulatorClusters = clusters.withFieldManager('stratum-node-simulator');
    simulator = await NodeSimulator.start({
      client: simulatorClusters.client('bench-b'),
      nodes: [1, 2].map((i) => ({ name: `${suite}-node-${i}`, labels: { 'stratum.io/bench-suite': suite } })),
      logRoot,
      readyDelayMs: 50,
    });
  });
  afterAll(async () => {
    if (namespace) await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    await simulator?.unregisterNodes();
    await simulator?.stop();
    await Promise.all([clusters?.close(), simulatorClusters?.close()]);
    rmSync(logRoot, { recursive: true, force: true });
  });

  it('accepts every object, re-applies as a no-op, gives fixed addresses from the subnet and container defaults', async () => {
    ({ namespace } = await exercise(client, simulator, true));
    const pod = await client.get<PodView>({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: namespace!,
      name: 'teller-any',
    });
    // The LimitRange filled in the requests the container did not state.
    expect(pod.spec?.containers?.[0].resources?.requests).toEqual({ cpu: '100m', memory: '128Mi' });
  });
});

describe('environment manifests on the sandbox cluster', () => {
  const logRoot = mkdtempSync(join(tmpdir(), 'stratum-env-sbx-'));
  let sandbox: SandboxCluster;
  let simulator: NodeSimulator;
  const opened: KubeClusters[] = [];
  afterAll(async () => {
    await simulator?.stop();
    await Promise.all(opened.map((c) => c.close()));
    await sandbox?.stop();
    rmSync(logRoot, { recursive: true, force: true });
  });

  it('accepts every object, re-applies as a no-op and gives fixed addresses from the subnet', async () => {
    sandbox = await SandboxCluster.start({ name: 'sandbox' });
    const clusters = KubeClusters.fromYaml(sandbox.kubeconfig(), {
      fieldManager: 'stratum-resource-manager',
    });
    simulator = await NodeSimulator.start({
      client: clusters.withFieldManager('stratum-node-simulator').client(),
      nodes: [{ name: 'sandbox-node-1' }],
      logRoot,
      readyDelayMs: 20,
    });
    await exercise(clusters.client(), simulator, false);
  });
});
