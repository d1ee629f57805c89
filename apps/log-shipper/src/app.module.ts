import { Module } from '@nestjs/common';
import { CheckpointModule } from './checkpoint/checkpoint.module';

/** The log-shipper: per-host agent collecting host, container and application logs into Kafka (R-LG). */
@Module({ imports: [CheckpointModule] })
export class AppModule {}
