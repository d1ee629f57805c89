import { Controller, Get } from '@nestjs/common';
import { OpenApiAggregator } from './openapi-aggregator';

/** `GET /api/v1/openapi.json`: the whole API, public (it documents routes, never data). */
@Controller('api/v1')
export class OpenApiController {
  constructor(private readonly aggregator: OpenApiAggregator) {}

  @Get('openapi.json')
  get() {
    return this.aggregator.document();
  }
}
