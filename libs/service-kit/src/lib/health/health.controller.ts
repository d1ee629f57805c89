import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ServiceRuntime } from '../runtime';

/** Liveness (the process answers) and readiness (its database, bus, consumers and relay work). */
@Controller('health')
export class HealthController {
  constructor(private readonly runtime: ServiceRuntime) {}

  @Get('live')
  live(): { status: 'alive'; service: string } {
    return { status: 'alive', service: this.runtime.name };
  }

  @Get()
  async health(@Res() response: Response): Promise<void> {
    await this.ready(response);
  }

  @Get('ready')
  async ready(@Res() response: Response): Promise<void> {
    const report = await this.runtime.health.report();
    response.status(report.status === 'ready' ? 200 : 503).json({ service: this.runtime.name, ...report });
  }
}
