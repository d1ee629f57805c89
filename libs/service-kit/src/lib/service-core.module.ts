import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { MessageBusToken } from './tokens';
import { Outbox } from '@stratum/messaging';
import type { KubeClusters } from '@stratum/kube';
import { IdentityVerifier } from '@stratum/authz/nest';
import { ServiceDatabase } from '@stratum/persistence';
import { HealthController } from './health/health.controller';
import { MetricsController } from './health/metrics.controller';
import { ServiceRuntime } from './runtime';
import { LogToken } from './tokens';

/**
 * Makes the runtime's pieces injectable in the service's modules: `ServiceRuntime`, `ServiceDatabase`,
 * `Outbox` by class (and `KubeClusters`, `IdentityVerifier` for services that use them); the bus and
 * the log by token. Serves /health and /metrics.
 */
@Global()
@Module({})
export class ServiceCoreModule {
  static forRuntime(runtime: ServiceRuntime, feature: Type<unknown>): DynamicModule {
    const providers = [
      { provide: ServiceRuntime, useValue: runtime },
      { provide: Outbox, useValue: runtime.outbox },
      { provide: MessageBusToken, useValue: runtime.bus },
      { provide: LogToken, useValue: runtime.log },
      ...(runtime.database ? [{ provide: ServiceDatabase, useValue: runtime.database }] : []),
      // By its class, taken from the instance: importing it here would load the Kubernetes client into
      // every service, those without clusters too (start-service.ts loads it only when needed).
      ...(runtime.kube
        ? [{ provide: runtime.kube.constructor as Type<KubeClusters>, useValue: runtime.kube }]
        : []),
      ...(runtime.identity ? [{ provide: IdentityVerifier, useValue: runtime.identity }] : []),
    ];
    return {
      module: ServiceCoreModule,
      imports: [feature],
      controllers: [HealthController, MetricsController],
      providers,
      exports: providers.map((p) => p.provide),
    };
  }
}
