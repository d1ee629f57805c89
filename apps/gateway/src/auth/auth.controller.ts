import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { DomainException, ErrorCode, parseOrThrow } from '@stratum/service-kit';
import type { Response } from 'express';
import { z } from 'zod';
import { AuditSink } from '../audit/audit-writer';
import { DevIdentityProvider } from '../dev-identity/dev-identity-provider';
import { Authenticator } from '../keystone/authenticator';
import { IdentityProviderToken } from '../gateway.tokens';
import { type IdentityProvider, IdentityUnavailable } from '../keystone/identity-provider';
import { Inject } from '@nestjs/common';

const LoginSchema = z.strictObject({
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(4096),
  /** The project (tenant) to scope the token to; without it the token is unscoped (no tenant roles). */
  project: z.string().min(1).max(255).optional(),
});

function unavailable(error: IdentityUnavailable): DomainException {
  return new DomainException(
    ErrorCode.DependencyUnavailable,
    `Keystone is not answering, so no token can be issued (${error.message}).`,
    'Retry when Keystone is back.',
  );
}

/**
 * `POST /api/v1/auth/tokens` (issue #6 §1): username and password → a Keystone token, for callers that
 * do not talk to Keystone themselves. The gateway forwards the login to Keystone; it stores nothing.
 * Every attempt is audited (`auth.login`, succeeded or failed).
 */
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    @Inject(IdentityProviderToken) private readonly provider: IdentityProvider,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditSink,
  ) {}

  @Post('tokens')
  @HttpCode(201)
  async login(@Body() body: unknown, @Res({ passthrough: true }) response: Response) {
    const input = parseOrThrow(LoginSchema, body);
    const started = performance.now();
    let issued;
    try {
      issued = await this.provider.issueToken(input);
    } catch (error) {
      if (error instanceof IdentityUnavailable) throw unavailable(error);
      throw error;
    }
    this.audit.record({
      actor: { userId: issued?.validated.userId ?? null, userName: input.username, roles: [] },
      tenantId: issued?.validated.project?.id ?? null,
      action: 'auth.login',
      resource: { kind: 'token', id: null },
      outcome: issued ? 'succeeded' : 'failed',
      ...(issued ? {} : { reason: 'wrong username, password or project' }),
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      sourceService: 'gateway',
      occurredAt: new Date().toISOString(),
    });
    if (!issued) {
      throw new DomainException(
        ErrorCode.Unauthenticated,
        'Keystone refused these credentials: wrong username or password, or no role on that project.',
        'Check the username and password; name a project you have a role on.',
      );
    }
    const caller = this.authenticator.toCaller(issued.validated);
    response.setHeader('x-subject-token', issued.token);
    return {
      token: issued.token,
      expiresAt: new Date(issued.validated.expiresAt).toISOString(),
      user: { id: caller.userId, name: caller.userName },
      tenant: caller.tenantId ? { id: caller.tenantId, name: caller.tenantName } : null,
      roles: caller.roles,
    };
  }
}

/**
 * The development identity provider's Keystone-shaped token API (issue #6 §8), on the gateway's port
 * under `/v3`: `POST /v3/auth/tokens` (password method), `GET` and `DELETE` with `X-Subject-Token`.
 * Answers 404 unless STRATUM_DEV_IDENTITY=enabled.
 */
@Controller('v3/auth')
export class DevKeystoneController {
  constructor(@Inject(IdentityProviderToken) private readonly provider: IdentityProvider) {}

  private dev(): DevIdentityProvider {
    if (!(this.provider instanceof DevIdentityProvider)) {
      throw new DomainException(
        ErrorCode.NotFound,
        'No such route: the development identity provider is off.',
      );
    }
    return this.provider;
  }

  @Post('tokens')
  @HttpCode(201)
  async issue(@Body() body: unknown, @Res({ passthrough: true }) response: Response) {
    const dev = this.dev();
    const parsed = z
      .object({
        auth: z.object({
          identity: z.object({
            methods: z.array(z.literal('password')).min(1),
            password: z.object({ user: z.object({ name: z.string().min(1), password: z.string().min(1) }) }),
          }),
          scope: z.object({ project: z.object({ name: z.string().min(1) }) }).optional(),
        }),
      })
      .parse(body ?? {});
    const issued = await dev.issueToken({
      username: parsed.auth.identity.password.user.name,
      password: parsed.auth.identity.password.user.password,
      project: parsed.auth.scope?.project.name,
    });
    if (!issued)
      throw new DomainException(
        ErrorCode.Unauthenticated,
        'The request you have made requires authentication.',
      );
    response.setHeader('x-subject-token', issued.token);
    return keystoneTokenBody(issued.validated);
  }

  @Get('tokens')
  async validate(@Headers('x-subject-token') token: string | undefined) {
    const found = token ? await this.dev().validateToken(token) : null;
    if (!found) throw new DomainException(ErrorCode.NotFound, 'Could not find token.');
    return keystoneTokenBody(found);
  }

  @Delete('tokens')
  @HttpCode(204)
  revoke(@Headers('x-subject-token') token: string | undefined): void {
    if (!token || !this.dev().revoke(token))
      throw new DomainException(ErrorCode.NotFound, 'Could not find token.');
  }
}

function keystoneTokenBody(t: import('../keystone/identity-provider').ValidatedToken) {
  return {
    token: {
      methods: ['password'],
      expires_at: new Date(t.expiresAt).toISOString(),
      user: { id: t.userId, name: t.userName, domain: { id: 'default', name: 'Default' } },
      ...(t.project
        ? { project: { id: t.project.id, name: t.project.name, domain: { id: 'default', name: 'Default' } } }
        : {}),
      roles: t.roleNames.map((name) => ({ id: name, name })),
    },
  };
}
