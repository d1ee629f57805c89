import { Module } from '@nestjs/common';

/** The autoscaler: time-windowed autoscaling policies (R-AS). Feature modules are added here. */
@Module({})
export class AppModule {}
