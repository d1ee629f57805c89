import { Module } from '@nestjs/common';

/** The gateway: authenticates every request against Keystone, authorizes it and proxies it (R-AU-1..6). Feature modules are added here. */
@Module({})
export class AppModule {}
