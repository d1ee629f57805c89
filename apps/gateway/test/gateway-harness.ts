/**
 * What the gateway's integration tests share: the gateway as its own process (distributed mode) and an
 * echo service standing in for the services behind it, which verifies the signed identity exactly as a
 * real service does (`verifyIdentity` with the gateway's public key) and reports what it received.
 */
import { IDENTITY_HEADER, type IdentityKeys, verifyIdentity, type VerifiedIdentity } from '@stratum/authz';
import { freePortBase, runTs, type RunningProcess } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  identity: VerifiedIdentity | { error: string };
  body: string;
}

/** An HTTP server that answers every request with what it received and the identity it verified. */
export class EchoUpstream {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Every request, in arrival order. */
    readonly received: Received[],
  ) {}

  static async start(keys: IdentityKeys): Promise<EchoUpstream> {
    const received: Received[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        let identity: Received['identity'];
        try {
          const header = request.headers[IDENTITY_HEADER];
          if (typeof header !== 'string') throw new Error(`${IDENTITY_HEADER} missing or repeated`);
          identity = verifyIdentity(header, keys);
        } catch (error) {
          identity = { error: (error as Error).message };
        }
        const entry: Received = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          identity,
          body: Buffer.concat(chunks).toString(),
        };
        received.push(entry);
        const body = JSON.stringify({ echo: true, ...entry });
        response.writeHead('error' in identity ? 401 : 200, {
          'content-type': 'application/json',
          'x-echo': '1',
        });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new EchoUpstream(server, `http://127.0.0.1:${port}`, received);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface RunningGateway {
  url: string;
  port: number;
  run: RunningProcess;
  stop(): Promise<void>;
}

/** Starts `apps/gateway/src/main.ts` with `env` and waits until it is ready. */
export async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const port = await freePortBase(1);
  const run = runTs('apps/gateway/src/main.ts', {
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (run.child.exitCode !== null) throw new Error(`gateway exited: ${run.output().slice(-3000)}`);
      const response = await fetch(`${url}/health/ready`).catch(() => undefined);
      return response?.status === 200;
    },
    { timeoutMs: 40_000, intervalMs: 200, description: 'gateway ready' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${run.output().slice(-3000)}`);
  });
  return {
    url,
    port,
    run,
    async stop() {
      await run.stop('SIGTERM');
    },
  };
}
