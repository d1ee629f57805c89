import { Module } from '@nestjs/common';

/** The resource-manager: networks, environments, NFS servers and volumes (R-NW, R-ST). Feature modules are added here. */
@Module({})
export class AppModule {}
