import { Module } from '@nestjs/common';

/** The monitor: metrics, alert rules, event audit and syslog alerts to a message queue (R-MO). Feature modules are added here. */
@Module({})
export class AppModule {}
