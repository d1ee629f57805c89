import { Module } from '@nestjs/common';

/** The image-sync: test → production registry sync and image states (R-IM). Feature modules are added here. */
@Module({})
export class AppModule {}
