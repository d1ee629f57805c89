import { Module } from '@nestjs/common';

/** The orchestrator: TOSCA translator and dependency-ordered stack deployment (R-OR). Feature modules are added here. */
@Module({})
export class AppModule {}
