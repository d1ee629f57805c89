import { defineService } from '@stratum/service-kit';
import { json } from 'express';
import type { RequestListener, Server } from 'node:http';
import { AppModule } from './app.module';
import { gatewayConfigSchema } from './config/gateway.config';
import { gatewayMigrations } from './persistence/migrations';
import { ApiGateway } from './proxy/api-gateway';

/** The gateway (SPEC R-ARCH-1): authenticates every request against Keystone, authorizes it and proxies it (R-AU-1..6). */
export const service = defineService({
  name: 'gateway',
  description: 'authenticates every request against Keystone, authorizes it and proxies it (R-AU-1..6)',
  defaultPort: 8080,
  module: AppModule,
  store: 'postgres',
  migrations: gatewayMigrations,
  configSchema: gatewayConfigSchema,
  // Proxied bodies are streamed to the services untouched; only the gateway's own routes parse JSON,
  // and the proxy answers before the parser for everything it forwards.
  bodyParser: false,
  // Distributed mode: the outbox relay runs in the audit process, off the request thread (AuditProcess).
  delegatesOutboxRelay: true,
  configureApp: (app) => {
    // Say nothing about the stack to the outside.
    (app.getHttpAdapter().getInstance() as { disable(name: string): void }).disable('x-powered-by');
    // The proxy answers ahead of Express (ApiGateway.frontDoor); the rest is Nest's, with JSON bodies.
    const server = app.getHttpServer() as Server;
    const [express] = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', app.get(ApiGateway).frontDoor(express));
    app.use(json({ limit: '64kb' }));
  },
});
