import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { waitFor } from '@stratum/util';
import { Registry } from 'prom-client';
import { type ForwardFailure, Upstream } from './forwarder';
import { GatewayMetrics } from './gateway-metrics';

/** A service that answers with the headers it received. */
function echoService(): Promise<{ server: Server; url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-answer': 'yes', connection: 'keep-alive' });
      res.end(JSON.stringify({ body }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

/** A front server that forwards every request through `upstream`, as the gateway does. */
function front(upstream: Upstream, failures: ForwardFailure[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    upstream
      .forward(req, res, req.url ?? '/', { 'x-stratum-identity': 'signed-by-the-gateway' })
      .catch((failure: ForwardFailure) => {
        failures.push(failure);
        res.writeHead(503).end(failure.kind);
      });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

function call(
  port: number,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/api/v1/things?x=1', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Upstream.forward (the proxy hop)', () => {
  const closers: (() => void)[] = [];
  afterAll(() => closers.forEach((close) => close()));
  /** Closes a server and the keep-alive connections clients still hold to it. */
  const shut = (server: Server) => () => {
    server.closeAllConnections();
    server.close();
  };

  /** A service, the gateway's pool to it and a front server that forwards through that pool. */
  async function setup<S extends { server: Server; url: string }>(
    start: () => Promise<S>,
    timeoutMs = 5_000,
  ) {
    const service = await start();
    const upstream = new Upstream('monitor', service.url, timeoutMs);
    const failures: ForwardFailure[] = [];
    const gateway = await front(upstream, failures);
    closers.push(shut(service.server), shut(gateway.server), () => upstream.close());
    return { service, upstream, gateway, failures };
  }

  it('drops credentials and client identity headers, adds the gateway identity, streams the body both ways', async () => {
    const { service, gateway } = await setup(echoService);
    const answer = await call(
      gateway.port,
      'POST',
      {
        'content-type': 'application/json',
        'x-auth-token': 'keystone-token',
        authorization: 'Bearer x',
        cookie: 'a=b',
        'x-stratum-identity': 'forged',
        'x-stratum-other': 'x',
        'x-forwarded-for': '10.6.6.6',
        baggage: 'k=v',
      },
      '{"name":"v1"}',
    );
    expect(answer).toMatchObject({ status: 201, body: '{"body":"{\\"name\\":\\"v1\\"}"}' });
    expect(answer.headers['x-answer']).toBe('yes');
    const received = service.seen.at(-1)!;
    expect(received['x-stratum-identity']).toBe('signed-by-the-gateway');
    for (const dropped of [
      'x-auth-token',
      'authorization',
      'cookie',
      'x-stratum-other',
      'x-forwarded-for',
      'baggage',
    ])
      expect(received[dropped]).toBeUndefined();
    expect(received['content-type']).toBe('application/json');
  });

  it('passes a well-formed W3C trace context on unchanged when no spans are exported, and drops a malformed one', async () => {
    const { service, gateway } = await setup(echoService);
    const parent = '00-af7651916cd43dd8448eb211c80319c1-b7ad6b7169203331-01';
    await call(gateway.port, 'GET', { traceparent: parent, tracestate: 'vendor=1' });
    expect(service.seen.at(-1)).toMatchObject({ traceparent: parent, tracestate: 'vendor=1' });
    for (const bad of [
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-af7651916cd43dd8448eb211c80319c1-0000000000000000-01',
      'ff-af7651916cd43dd8448eb211c80319c1-b7ad6b7169203331-01',
      '00-AF7651916CD43DD8448EB211C80319C1-b7ad6b7169203331-01',
      'garbage',
    ]) {
      await call(gateway.port, 'GET', { traceparent: bad, tracestate: 'vendor=1' });
      expect(service.seen.at(-1)!.traceparent).toBeUndefined();
      expect(service.seen.at(-1)!.tracestate).toBeUndefined();
    }
  });

  it('rejects with "unavailable" naming the service when it is not reachable, before writing anything', async () => {
    const service = await echoService();
    const url = service.url;
    await new Promise((resolve) => service.server.close(resolve));
    const upstream = new Upstream('orchestrator', url, 5_000);
    const failures: ForwardFailure[] = [];
    const gateway = await front(upstream, failures);
    closers.push(shut(gateway.server), () => upstream.close());
    const answer = await call(gateway.port, 'GET', {});
    expect(answer).toMatchObject({ status: 503, body: 'unavailable' });
    expect(failures[0].message).toMatch(
      /^the orchestrator is not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/,
    );
  });
  /**
   * A service that answers its first request on every connection and then closes that connection
   * abruptly when the next request arrives on it, before reading it: a pooled connection the service
   * had already closed, as when its keep-alive timeout races the gateway's reuse.
   */
  function closingService(): Promise<{ server: Server; url: string; answered: string[] }> {
    const answered: string[] = [];
    const server = createServer((req, res) => {
      const socket = req.socket as Socket & { served?: boolean };
      if (socket.served) {
        socket.destroy();
        return;
      }
      socket.served = true;
      answered.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { connection: 'keep-alive' }).end('ok'));
    });
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answered }),
      ),
    );
  }

  it('sends a safe request again on a new connection when the pooled one was closed by the service, and counts it', async () => {
    const { service, upstream, gateway, failures } = await setup(closingService);

    expect(await call(gateway.port, 'GET', {})).toMatchObject({ status: 200, body: 'ok' });
    expect(upstream.resent).toBe(0);
    // The pooled connection is reused and reset: the GET goes out again on a new one.
    expect(await call(gateway.port, 'GET', {})).toMatchObject({ status: 200, body: 'ok' });
    expect(await call(gateway.port, 'HEAD', {})).toMatchObject({ status: 200 });
    expect(failures).toEqual([]);
    expect(upstream.resent).toBe(2);
    expect(service.answered).toEqual([
      'GET /api/v1/things?x=1',
      'GET /api/v1/things?x=1',
      'HEAD /api/v1/things?x=1',
    ]);

    const registry = new Registry();
    new GatewayMetrics(registry, [upstream]);
    expect(await registry.getSingleMetricAsString('stratum_gateway_upstream_resends_total')).toContain(
      'stratum_gateway_upstream_resends_total{service="monitor"} 2',
    );
  });

  it("closes an idle pooled connection before the service's keep-alive timeout does", async () => {
    // A service as Node serves by default: `Keep-Alive: timeout=2` on its answers.
    // 'end' is the other side's FIN: seen only if the gateway closed first (a server that times a
    // connection out destroys it, which emits 'close' alone).
    let closedByGateway = 0;
    const { gateway } = await setup(async () => {
      const server = createServer((_req, res) => res.end('ok'));
      server.keepAliveTimeout = 2_000;
      server.on('connection', (socket: Socket) => socket.on('end', () => (closedByGateway += 1)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }, 30_000);

    expect(await call(gateway.port, 'GET', {})).toMatchObject({ status: 200, body: 'ok' });
    await waitFor(() => closedByGateway === 1, {
      timeoutMs: 10_000,
      description: 'the gateway closing its idle connection to the service',
    });
  });

  it('never sends a request that may change something again: a POST on a reset connection fails as unavailable', async () => {
    const { service, upstream, gateway, failures } = await setup(closingService);

    expect(await call(gateway.port, 'POST', { 'content-type': 'application/json' }, '{}')).toMatchObject({
      status: 200,
    });
    expect(await call(gateway.port, 'POST', { 'content-type': 'application/json' }, '{}')).toMatchObject({
      status: 503,
      body: 'unavailable',
    });
    // A safe request with a body is not sent again either: the body was streamed and is gone.
    expect(await call(gateway.port, 'GET', {})).toMatchObject({ status: 200 });
    expect(
      await call(gateway.port, 'GET', { 'content-type': 'text/plain', 'content-length': '1' }, 'x'),
    ).toMatchObject({
      status: 503,
    });
    expect(upstream.resent).toBe(0);
    expect(failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^the monitor is not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNRESET\)$/),
      expect.stringMatching(/\(ECONNRESET\)$/),
    ]);
    expect(service.answered).toEqual(['POST /api/v1/things?x=1', 'GET /api/v1/things?x=1']);
  });
});
