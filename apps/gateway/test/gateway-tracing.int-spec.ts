/**
 * Issue #6 on the real bench, with spans exported (OTEL_EXPORTER_OTLP_ENDPOINT): the gateway makes its
 * own server span for a proxied request, continuing the client's trace and continued by the service,
 * named by the route template — never by a tenant's or a record's id, which would make every request
 * an operation of its own in the tracing backend. The OTLP/HTTP receiver is a plain HTTP server here.
 */
import { waitFor } from '@stratum/util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayBench } from './gateway-harness';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}

/** Collects the spans of every OTLP/HTTP JSON export it receives. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
        };
        for (const resource of body.resourceSpans)
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

describe('gateway (issue #6): its spans when tracing is exported', () => {
  const suite = `trc${process.pid}`;
  const password = 'Tracing-pass-1';
  let bench: GatewayBench;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let projectId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    bench = await GatewayBench.start('gateway_tracing');
    projectId = await bench.keystone.createProject(`${suite}A`);
    const userId = await bench.keystone.createUser(`user-${suite}`, password);
    await bench.keystone.assignRole({ userId, projectId, roleName: 'stratum-read-only' });
    await bench.startGateway({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // The batch span processor's delay (OpenTelemetry SDK variable): export within a fifth of a second.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
  }, 180_000);

  afterAll(async () => {
    await bench?.stop();
    receiver?.server.close();
  });

  it('names the server span by the route template and links client, gateway and service in one trace', async () => {
    const { token } = await bench.keystone.issueToken({
      username: `user-${suite}`,
      password,
      projectName: `${suite}A`,
    });
    const traceId = '5d1f0c2b9e3a47c8a6b4d2e0f1a3c5e7';
    const clientSpanId = '1a2b3c4d5e6f7081';
    const response = await fetch(`${bench.gateway.url}/api/v1/tenants/${projectId}/volumes/vol-17`, {
      headers: { 'x-auth-token': token, traceparent: `00-${traceId}-${clientSpanId}-01` },
    });
    expect(response.status).toBe(200);

    let span: ExportedSpan | undefined;
    await waitFor(
      () => {
        span = receiver.spans.find((s) => s.traceId === traceId && s.parentSpanId === clientSpanId);
        return span !== undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, description: "the gateway's server span exported" },
    );
    expect(span!.name).toBe('GET /api/v1/tenants/:tenantId/volumes/:volumeId');
    expect(span!.name).not.toContain(projectId);
    const attribute = (key: string) => span!.attributes.find((a) => a.key === key)?.value;
    expect(attribute('http.route')).toEqual({ stringValue: '/api/v1/tenants/:tenantId/volumes/:volumeId' });
    expect(attribute('url.path')).toEqual({ stringValue: `/api/v1/tenants/${projectId}/volumes/vol-17` });
    expect(Number(attribute('http.response.status_code')?.intValue)).toBe(200);

    // The service continues the gateway's span, not the client's.
    const received = bench.echo.received.at(-1)!;
    expect(received.headers.traceparent).toBe(`00-${traceId}-${span!.spanId}-01`);
  });
});
