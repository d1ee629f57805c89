import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ServiceRuntime } from '../runtime';

/** Prometheus exposition: process, HTTP, bus and outbox metrics of this service. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly runtime: ServiceRuntime) {}

  @Get()
  async metrics(@Res() response: Response): Promise<void> {
    await this.runtime.refreshGauges().catch(() => undefined);
    response.setHeader('Content-Type', this.runtime.registry.contentType);
    response.send(await this.runtime.registry.metrics());
  }
}
