import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { bootstrap, NETWORK_ATTACHMENT_DEFINITION_CRD } from './bootstrap';
import type { Controller, ControllerContext } from './controllers/controller-kit';
import { CrdController } from './controllers/crd-controller';
import { DeploymentController } from './controllers/deployment-controller';
import { GarbageCollector } from './controllers/garbage-collector';
import { NamespaceController } from './controllers/namespace-controller';
import { NodeLifecycleController } from './controllers/node-lifecycle-controller';
import { PersistentVolumeBinder } from './controllers/pv-binder-controller';
import { ReplicaSetController } from './controllers/replicaset-controller';
import { Scheduler } from './controllers/scheduler';
import { ServiceAccountController } from './controllers/serviceaccount-controller';
import { StatefulSetController } from './controllers/statefulset-controller';
import { StorageProtectionController } from './controllers/storage-protection-controller';
import { HttpApi } from './http-api';
import { asStored, type StoredObject } from './object-meta';
import { ObjectStore } from './object-store';
import { ResourceRegistry } from './resource-registry';
import { readSnapshot, SnapshotWriter } from './snapshot-file';
import { ApiStorage } from './storage';

export interface SandboxClusterOptions {
  /** Cluster (and kubeconfig context) name. Default "sandbox". */
  name?: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Bearer token clients must send; random by default. */
  token?: string;
  /**
   * JSON snapshot of the cluster: loaded at start, rewritten (debounced, atomically) on change, so
   * the all-in-one mode keeps its workloads across restarts.
   */
  persistPath?: string;
  /** Run the controller-manager and scheduler equivalents (default true). */
  controllers?: boolean;
  /** Deliberate deviations, to prove the contract suite notices them. */
  faults?: {
    /** Answer 201 to a create of an existing name (replacing it) instead of 409 AlreadyExists. */
    acceptConflictingCreate?: boolean;
  };
  /** Events kept for watches resuming from a resourceVersion (older ones get 410). Default 5000. */
  historySize?: number;
  /**
   * Pods bound to a node stay Terminating after DELETE until deleted again with grace period 0, as
   * a kubelet (here the node simulator) confirms. Default true; false deletes them at once.
   */
  gracefulPodDeletion?: boolean;
  /** Interval of BOOKMARK events on watches that allow them. Default 60 s, as the real server. */
  bookmarkIntervalMs?: number;
  /** Delay between a change and the snapshot write. Default 200 ms. */
  persistDebounceMs?: number;
  /** Install Multus' NetworkAttachmentDefinition CRD at start, as the real bench does. Default true. */
  networkAttachmentDefinitions?: boolean;
  /** More CustomResourceDefinitions to install at start (apiextensions.k8s.io/v1 objects). */
  crds?: readonly object[];
  /** Failures of in-process controllers and of snapshot writes (default: kept in `errors`). */
  onError?: (message: string, error: unknown) => void;
}

/**
 * An in-process Kubernetes API server speaking kube-apiserver 1.20's REST API (the subset Stratum
 * uses) over plain HTTP, with its own controllers: the cluster behind `npm start` and unit tests.
 * The adapter reaches it through @kubernetes/client-node exactly as it reaches a real cluster.
 */
export class SandboxCluster {
  readonly name: string;
  readonly token: string;
  /** Controller and persistence failures, most recent last (bounded). */
  readonly errors: string[] = [];
  private readonly controllers: Controller[] = [];
  private stopped = false;
  /** host:port, fixed once listening (still known after stop, for a restart on the same port). */
  private address = '127.0.0.1:0';

  private constructor(
    options: SandboxClusterOptions,
    private readonly httpServer: Server,
    private readonly api: HttpApi,
    private readonly store: ObjectStore,
    private readonly writer: SnapshotWriter | undefined,
  ) {
    this.name = options.name ?? 'sandbox';
    this.token = options.token ?? '';
  }

  static async start(options: SandboxClusterOptions = {}): Promise<SandboxCluster> {
    const name = options.name ?? 'sandbox';
    const token = options.token ?? randomBytes(24).toString('hex');
    const registry = new ResourceRegistry();
    const store = new ObjectStore(options.historySize ?? 5_000);
    const storage = new ApiStorage(store, registry, {
      acceptConflictingCreate: options.faults?.acceptConflictingCreate ?? false,
      gracefulPodDeletion: options.gracefulPodDeletion ?? true,
      serviceAccounts: options.controllers ?? true,
    });

    if (options.persistPath) {
      const snapshot = await readSnapshot(options.persistPath);
      if (snapshot) {
        // CRDs first, so their custom resources have a type to be served as.
        for (const crd of snapshot.objects['apiextensions.k8s.io/customresourcedefinitions'] ?? []) {
          if (!crd.metadata.deletionTimestamp) registry.registerCustom(crd);
        }
        for (const [typeId, objects] of Object.entries(snapshot.objects))
          for (const object of objects) store.restore(typeId, object);
        store.setRevision(snapshot.resourceVersion);
      }
    }

    let writer: SnapshotWriter | undefined;
    const errorSink: { cluster?: SandboxCluster } = {};
    const report = (message: string, error: unknown) => {
      const text = `${message}: ${error instanceof Error ? error.message : String(error)}`;
      if (errorSink.cluster) {
        errorSink.cluster.errors.push(text);
        if (errorSink.cluster.errors.length > 100) errorSink.cluster.errors.shift();
      }
      options.onError?.(message, error);
    };
    if (options.persistPath) {
      writer = new SnapshotWriter(
        options.persistPath,
        () => ({ version: 1, ...store.snapshot() }),
        options.persistDebounceMs ?? 200,
        (error) => report(`writing ${options.persistPath}`, error),
      );
      const persist = writer;
      store.subscribe(() => persist.schedule());
    }

    let address = '127.0.0.1:0';
    const api = new HttpApi(storage, registry, {
      token,
      serverAddress: () => address,
      watch: { bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, defaultTimeoutMs: 30 * 60_000 },
    });
    const server = createServer((req, res) => void api.handle(req, res));
    server.keepAliveTimeout = 30_000;
    const cluster = new SandboxCluster({ ...options, name, token }, server, api, store, writer);
    errorSink.cluster = cluster;

    const context: ControllerContext = {
      storage,
      store,
      registry,
      onError: (controller, error) => report(controller, error),
    };
    // CRDs are served by the API server itself: establishing runs with or without controllers.
    cluster.controllers.push(new CrdController(context));
    if (options.controllers ?? true) {
      cluster.controllers.push(
        new ServiceAccountController(context),
        new NamespaceController(context),
        new GarbageCollector(context),
        new DeploymentController(context),
        new ReplicaSetController(context),
        new StatefulSetController(context),
        new NodeLifecycleController(context),
        new PersistentVolumeBinder(context),
        new StorageProtectionController(context),
        new Scheduler(context),
      );
    }
    for (const controller of cluster.controllers) controller.start();

    const crds: StoredObject[] = [];
    if (options.networkAttachmentDefinitions ?? true) crds.push(NETWORK_ATTACHMENT_DEFINITION_CRD);
    for (const crd of options.crds ?? []) {
      const stored = asStored(crd);
      if (!stored)
        throw new TypeError('SandboxCluster: crds must be CustomResourceDefinition objects with metadata');
      crds.push(stored);
    }
    bootstrap(storage, registry, crds);

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    cluster.address = address;
    return cluster;
  }

  /** `http://127.0.0.1:<port>`. */
  get server(): string {
    return `http://${this.address}`;
  }

  /** The current resourceVersion (the global write counter). */
  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  /** A kubeconfig with one cluster, user and context, all named after the cluster. */
  kubeconfig(): string {
    const name = JSON.stringify(this.name);
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${name}`,
      '  cluster:',
      `    server: ${JSON.stringify(this.server)}`,
      // client-node 2.x refuses plain http:// unless TLS verification is (vacuously) off.
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${name}`,
      '  user:',
      `    token: ${JSON.stringify(this.token)}`,
      'contexts:',
      `- name: ${name}`,
      '  context:',
      `    cluster: ${name}`,
      `    user: ${name}`,
      `current-context: ${name}`,
      'preferences: {}',
      '',
    ].join('\n');
  }

  /** Stops controllers, ends watches and connections, and writes the last snapshot. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const controller of this.controllers) controller.stop();
    this.api.closeWatches();
    await new Promise<void>((resolve) => {
      this.httpServer.close(() => resolve());
      this.httpServer.closeAllConnections();
    });
    await this.writer?.flush();
  }
}
