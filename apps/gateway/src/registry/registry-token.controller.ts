import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IdentityUnavailable } from '../keystone/identity-provider';
import { RegistryTokenService } from './registry-token.service';

/**
 * `GET /api/v1/auth/registry-token?service=…&scope=…` — the realm both registries send clients to
 * (their `auth.token.realm`). Answers in the token spec's shape; errors in the API's JSON shape, with
 * a Basic challenge on 401 so `docker login` asks for credentials.
 */
@Controller('api/v1/auth')
export class RegistryTokenController {
  constructor(private readonly tokens: RegistryTokenService) {}

  @Get('registry-token')
  async token(
    @Headers('authorization') authorization: string | undefined,
    @Query('service') service: string | undefined,
    @Query('scope') scope: string | string[] | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    // `scope` may repeat, and one value may hold several space-separated scopes.
    const scopes = (Array.isArray(scope) ? scope : scope ? [scope] : []).flatMap((s) =>
      s.split(' ').filter(Boolean),
    );
    response.setHeader('cache-control', 'no-store');
    let result;
    try {
      result = await this.tokens.issue({
        authorization,
        service,
        scopes,
        clientIp: request.socket.remoteAddress,
      });
    } catch (error) {
      if (!(error instanceof IdentityUnavailable)) throw error;
      response.status(503).json({
        error: {
          code: 'DEPENDENCY_UNAVAILABLE',
          message: `Keystone is not answering: ${error.message}`,
          hint: 'Retry shortly.',
        },
      });
      return;
    }
    switch (result.kind) {
      case 'token':
        response.status(200).json(result.body);
        return;
      case 'unauthenticated':
        response.setHeader('www-authenticate', 'Basic realm="Stratum registry"');
        response.status(401).json({ error: { code: 'UNAUTHENTICATED', message: result.message } });
        return;
      case 'invalid':
        response.status(400).json({ error: { code: 'VALIDATION_FAILED', message: result.message } });
        return;
      case 'disabled':
        response.status(404).json({ error: { code: 'NOT_FOUND', message: result.message } });
        return;
    }
  }
}
