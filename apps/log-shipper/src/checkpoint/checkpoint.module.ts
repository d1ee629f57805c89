import { Module, type OnModuleInit } from '@nestjs/common';
import { ServiceRuntime } from '@stratum/service-kit';
import type { LogShipperConfig } from '../config/log-shipper.config';
import { CheckpointStore } from './checkpoint-store';

@Module({
  providers: [
    {
      provide: CheckpointStore,
      inject: [ServiceRuntime],
      useFactory: (runtime: ServiceRuntime) =>
        new CheckpointStore((runtime.config.own as LogShipperConfig).CHECKPOINT_DIR),
    },
  ],
  exports: [CheckpointStore],
})
export class CheckpointModule implements OnModuleInit {
  constructor(
    private readonly store: CheckpointStore,
    private readonly runtime: ServiceRuntime,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.store.load();
    this.runtime.health.register('checkpoint-store', async () => {
      await this.store.writable();
      return { ok: true, detail: this.store.directory };
    });
  }
}
