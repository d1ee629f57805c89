import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeClientOptions } from './client';

/**
 * Every cluster Stratum may place an environment in (R-NW-2: "target cluster"), one per kubeconfig
 * context. Each gets its own KubeConfig copy, because client-node reads the *current* context when
 * a client or a watch is made.
 */
export class KubeClusters {
  private readonly clients = new Map<string, KubeClient>();

  private constructor(
    private readonly yaml: string,
    private readonly defaultName: string,
    private readonly options: Omit<KubeClientOptions, 'cluster'>,
    names: string[],
  ) {
    for (const name of names) {
      const config = new KubeConfig();
      config.loadFromString(yaml);
      config.setCurrentContext(name);
      this.clients.set(name, new KubeClient(config, { ...options, cluster: name }));
    }
  }

  /** From kubeconfig text (YAML or JSON): one cluster per context. */
  static fromYaml(yaml: string, options: Omit<KubeClientOptions, 'cluster'>): KubeClusters {
    const config = new KubeConfig();
    config.loadFromString(yaml);
    const names = config.getContexts().map((context) => context.name);
    if (names.length === 0) throw new Error('the kubeconfig defines no context; add one per cluster');
    const current = config.getCurrentContext() || names[0];
    return new KubeClusters(yaml, current, options, names);
  }

  /** From a kubeconfig file (for example $KUBECONFIG). */
  static fromFile(path: string, options: Omit<KubeClientOptions, 'cluster'>): KubeClusters {
    let yaml: string;
    try {
      yaml = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read kubeconfig ${path}: ${(error as Error).message}`);
    }
    return KubeClusters.fromYaml(yaml, options);
  }

  /** The cluster names (kubeconfig contexts). */
  names(): string[] {
    return [...this.clients.keys()];
  }

  has(name: string): boolean {
    return this.clients.has(name);
  }

  /** The client for a cluster; the kubeconfig's current context when no name is given. */
  client(name: string = this.defaultName): KubeClient {
    const client = this.clients.get(name);
    if (!client) {
      throw new Error(`unknown cluster "${name}"; registered clusters: ${this.names().join(', ')}`);
    }
    return client;
  }

  /** Closes every cluster's kept-alive connections (graceful shutdown, tests). */
  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }

  /** The same clusters with another field manager (one per service). */
  withFieldManager(fieldManager: string): KubeClusters {
    return new KubeClusters(this.yaml, this.defaultName, { ...this.options, fieldManager }, this.names());
  }
}
