/**
 * Which calls the adapter repeats, against a scripted HTTP server: only those where repeating
 * cannot do harm (reads; anything the server says it did not do), never a create that may have
 * happened.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClusters } from './clusters';
import { UnavailableError } from './errors';

interface Scripted {
  status: number;
  body: object;
}

let server: Server;
let url = '';
let script: Scripted[] = [];
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url?.split('?')[0]}`);
    request.resume();
    const next = script.shift() ?? { status: 500, body: { kind: 'Status', message: 'script exhausted' } };
    response.writeHead(next.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
const made: Array<{ close(): Promise<void> }> = [];
beforeEach(() => {
  script = [];
  requests = [];
});
afterEach(async () => {
  await Promise.all(made.splice(0).map((c) => c.close()));
});

function client() {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'scripted',
    clusters: [{ name: 'scripted', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'scripted', context: { cluster: 'scripted', user: 'u' } }],
  };
  const clusters = KubeClusters.fromYaml(JSON.stringify(kubeconfig), {
    fieldManager: 'test',
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  made.push(clusters);
  return clusters.client();
}

const status = (code: number, reason: string, extra: object = {}) => ({
  status: code,
  body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: reason, ...extra },
});
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n' }, data: {} };
const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n', name: 'a' };

describe('adapter retries', () => {
  it('repeats a read while the server is unavailable', async () => {
    script = [
      status(503, 'ServiceUnavailable'),
      status(503, 'ServiceUnavailable'),
      { status: 200, body: configMap },
    ];
    await expect(client().get(ref)).resolves.toMatchObject({ metadata: { name: 'a' } });
    expect(requests).toEqual(Array(3).fill('GET /api/v1/namespaces/n/configmaps/a'));
  });

  it('does not repeat a create the server may have done (503)', async () => {
    script = [status(503, 'ServiceUnavailable'), { status: 201, body: configMap }];
    await expect(client().create(configMap)).rejects.toBeInstanceOf(UnavailableError);
    expect(requests).toHaveLength(1);
  });

  it('repeats a create the server said it did not do (500 ServerTimeout, 429)', async () => {
    script = [
      status(500, 'ServerTimeout', { details: { retryAfterSeconds: 0 } }),
      status(429, 'TooManyRequests'),
      { status: 201, body: configMap },
    ];
    await expect(client().create(configMap)).resolves.toMatchObject({ metadata: { name: 'a' } });
    expect(requests).toEqual(Array(3).fill('POST /api/v1/namespaces/n/configmaps'));
  });

  it('repeats a server-side apply (idempotent) and gives up after the configured attempts', async () => {
    script = Array(5).fill(status(503, 'ServiceUnavailable'));
    await expect(client().apply(configMap)).rejects.toBeInstanceOf(UnavailableError);
    expect(requests).toHaveLength(5);
  });

  it('reads a NotFound after a repeated delete as "an earlier attempt deleted it"', async () => {
    script = [status(503, 'ServiceUnavailable'), status(404, 'NotFound')];
    await expect(client().delete(ref)).resolves.toBe(true);
    script = [status(404, 'NotFound')];
    await expect(client().delete(ref)).resolves.toBe(false);
  });
});
