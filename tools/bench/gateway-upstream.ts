/**
 * The "service" behind the gateway in `npm run bench:gateway` (tools/bench/gateway.bench.ts), as its own
 * process: a plain node:http server that verifies the signed identity (`x-stratum-identity`) exactly as
 * the real services do — the gateway's public key parsed once (`IdentityKeys.fromPem`), `verifyIdentity`
 * on every request — and answers 200 with a small JSON body (≈200 bytes), or 401 when the identity does
 * not verify (counted: the bench must report none).
 *
 * Environment: BENCH_UPSTREAM_PORT (0: any free port), BENCH_UPSTREAM_PUBLIC_KEY (PEM file of the
 * gateway's public key). Prints `READY <port>` on stdout once listening. `GET /__bench/stats` (no
 * identity needed, not counted) answers `{ "requests", "ok", "rejected", "lastRejection", "connections" }`.
 */
import { IDENTITY_HEADER, IdentityKeys, verifyIdentity } from '@stratum/authz';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const keyFile = process.env.BENCH_UPSTREAM_PUBLIC_KEY;
if (!keyFile) {
  console.error('BENCH_UPSTREAM_PUBLIC_KEY (PEM file of the gateway public key) is required');
  process.exit(2);
}
const keys = IdentityKeys.fromPem(readFileSync(keyFile, 'utf8'));
const stats = { requests: 0, ok: 0, rejected: 0, lastRejection: '', connections: 0 };

const server = createServer((request, response) => {
  if (request.url === '/__bench/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(stats));
    return;
  }
  stats.requests++;
  // GETs only in the bench; drain anything sent anyway so the connection stays reusable.
  request.resume();
  const header = request.headers[IDENTITY_HEADER];
  let body: string;
  try {
    if (typeof header !== 'string') throw new Error(`${IDENTITY_HEADER} missing or repeated`);
    const identity = verifyIdentity(header, keys);
    stats.ok++;
    body = JSON.stringify({
      items: [{ id: 'vol-0001', name: 'data', sizeGiB: 10, state: 'available' }],
      tenantId: identity.tenantId,
      user: identity.userName,
      requestId: identity.requestId ?? null,
    });
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
  } catch (error) {
    stats.rejected++;
    stats.lastRejection = (error as Error).message;
    body = JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: (error as Error).message } });
    response.writeHead(401, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
  }
  response.end(body);
});

// New TCP connections (keep-alive callers reuse theirs; a growing count means connection churn).
server.on('connection', () => stats.connections++);

server.listen(Number(process.env.BENCH_UPSTREAM_PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY ${(server.address() as AddressInfo).port}`);
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
