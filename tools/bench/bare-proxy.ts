/**
 * The reference hop for `BENCH_BARE_PROXY=1 npm run bench:gateway`: the least a Node proxy process can
 * do — take the request, forward it with its headers to the service over a keep-alive pool, pipe the
 * answer back. No authentication, routing, signature, audit or metrics. Measured in the same slices as
 * the direct calls and the gateway, it shows what one extra Node process hop costs on the machine, so
 * the gateway's overhead can be read against it. Prints `READY <port>` when listening.
 *
 * Environment: UPSTREAM_PORT (the service), HTTP_PORT (0: any free port).
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstreamPort = Number(process.env.UPSTREAM_PORT);
const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512, scheduling: 'lifo' });

const server = createServer((incoming, outgoing) => {
  const headers = { ...incoming.headers };
  delete headers.host;
  delete headers.connection;
  const upstream = request(
    { host: '127.0.0.1', port: upstreamPort, method: incoming.method, path: incoming.url, headers, agent },
    (response) => {
      const answer = { ...response.headers };
      delete answer.connection;
      delete answer['keep-alive'];
      delete answer['transfer-encoding'];
      outgoing.writeHead(response.statusCode ?? 502, answer);
      response.pipe(outgoing);
    },
  );
  upstream.on('error', () => {
    if (!outgoing.headersSent) outgoing.writeHead(502);
    outgoing.end();
  });
  incoming.pipe(upstream);
});

server.listen(Number(process.env.HTTP_PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
