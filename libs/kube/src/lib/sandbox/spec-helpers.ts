/**
 * Shared by the sandbox specs: a started sandbox with client-node clients on it, and a way to see
 * the Status a failed call carried. (Not exported from the library.)
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  Watch,
} from '@kubernetes/client-node';

import type { StatusBody } from './api-status';
import { SandboxCluster, type SandboxClusterOptions } from './sandbox-cluster';

export interface SandboxClients {
  cluster: SandboxCluster;
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
  watch: Watch;
}

export async function startSandbox(options: SandboxClusterOptions = {}): Promise<SandboxClients> {
  const cluster = await SandboxCluster.start(options);
  return clientsFor(cluster);
}

export function clientsFor(cluster: SandboxCluster): SandboxClients {
  const config = new KubeConfig();
  config.loadFromString(cluster.kubeconfig());
  return {
    cluster,
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(config),
    watch: new Watch(config),
  };
}

/** The HTTP status and Status body of a call that must fail. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; status: StatusBody }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      return { code: error.code, status: body as StatusBody };
    }
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** A raw request with the cluster's token (or another), for what client-node hides. */
export async function request(
  cluster: SandboxCluster,
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; token?: string | null } = {},
): Promise<{ code: number; body: unknown; text: string }> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? cluster.token : options.token;
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${cluster.server}${path}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON (a watch stream, "ok")
  }
  return { code: response.status, body, text };
}

let counter = 0;

/** A fresh namespace (its default service account arrives with it). */
export async function namespace(clients: SandboxClients, prefix = 'ns'): Promise<string> {
  const name = `${prefix}-${++counter}`;
  await clients.core.createNamespace({ body: { metadata: { name } } });
  return name;
}
