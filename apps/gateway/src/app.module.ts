import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ServiceName } from '@stratum/contracts';
import { ServiceRuntime } from '@stratum/service-kit';
import { AuditProcess } from './audit/audit-process';
import { AuditSink } from './audit/audit-writer';
import { AuthController, DevKeystoneController } from './auth/auth.controller';
import { IdentityProviderToken, UpstreamsToken } from './gateway.tokens';
import {
  createApiGateway,
  createAuditSink,
  createAuthenticator,
  createIdentityProvider,
  createRateLimiter,
  createUpstreams,
} from './gateway.providers';
import { Authenticator } from './keystone/authenticator';
import type { IdentityProvider } from './keystone/identity-provider';
import { MembersService } from './members/members.service';
import { OpenApiAggregator } from './openapi/openapi-aggregator';
import { OpenApiController } from './openapi/openapi.controller';
import { ApiGateway } from './proxy/api-gateway';
import type { Upstream } from './proxy/forwarder';
import { RateLimiter } from './proxy/rate-limiter';
import { RegistryTokenController } from './registry/registry-token.controller';
import { RegistryTokenService } from './registry/registry-token.service';

/** Starts and stops what runs beside the request path: rate-limit pruning, the audit flush, health. */
class GatewayLifecycle implements OnModuleInit, OnApplicationShutdown {
  private prune: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly audit: AuditSink,
    private readonly limiter: RateLimiter,
    private readonly authenticator: Authenticator,
    @Inject(IdentityProviderToken) private readonly provider: IdentityProvider,
    @Inject(UpstreamsToken) private readonly upstreams: Map<ServiceName, Upstream>,
  ) {}

  onModuleInit(): void {
    this.prune = setInterval(() => this.limiter.prune(), 30_000);
    this.prune.unref();
    const { health } = this.runtime;
    const audit = this.audit;
    health.register('audit', async () => audit.health());
    // The kit registered no relay check: the relay runs in the audit process.
    if (audit instanceof AuditProcess) health.register('outbox-relay', async () => audit.relayHealth());
    // Informational: the gateway stays ready without Keystone (cached tokens keep working, R-AU-2).
    health.register('identity', async () => ({
      ok: true,
      detail: `${this.provider.kind}; ${this.authenticator.cache.size} validations cached`,
    }));
    this.runtime.log.info('gateway routes', {
      upstreams: Object.fromEntries([...this.upstreams].map(([name, u]) => [name, u.baseUrl])),
      identity: this.provider.kind,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.prune) clearInterval(this.prune);
    await this.audit.close();
    for (const upstream of this.upstreams.values()) upstream.close();
    await this.provider.close?.();
  }
}

/**
 * The gateway (R-AU-1..6): Keystone authentication, the permission table, the proxy with audit and rate
 * limits, the registry token service, RBAC mirroring of Keystone assignments, the aggregated OpenAPI.
 */
@Module({
  controllers: [AuthController, DevKeystoneController, OpenApiController, RegistryTokenController],
  providers: [
    { provide: IdentityProviderToken, inject: [ServiceRuntime], useFactory: createIdentityProvider },
    {
      provide: Authenticator,
      inject: [ServiceRuntime, IdentityProviderToken],
      useFactory: createAuthenticator,
    },
    { provide: AuditSink, inject: [ServiceRuntime], useFactory: createAuditSink },
    { provide: RateLimiter, inject: [ServiceRuntime], useFactory: createRateLimiter },
    { provide: UpstreamsToken, inject: [ServiceRuntime], useFactory: createUpstreams },
    MembersService,
    OpenApiAggregator,
    RegistryTokenService,
    {
      provide: ApiGateway,
      inject: [ServiceRuntime, Authenticator, UpstreamsToken, RateLimiter, AuditSink, MembersService],
      useFactory: (
        runtime: ServiceRuntime,
        authenticator: Authenticator,
        upstreams: Map<ServiceName, Upstream>,
        limiter: RateLimiter,
        audit: AuditSink,
        members: MembersService,
      ) =>
        createApiGateway(runtime, {
          authenticator,
          upstreams,
          limiter,
          audit,
          ownRoutes: (match, caller, request, response) => members.serve(match, caller, response),
        }),
    },
    GatewayLifecycle,
  ],
})
export class AppModule {}
