import 'reflect-metadata';
import {
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  type INestApplication,
  Module,
  Param,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import {
  generateIdentityKeyPair,
  IDENTITY_HEADER,
  IdentityKeys,
  signIdentity,
  type VerifiedIdentity,
} from '../identity';
import { assertAllowed } from './assert-allowed';
import { CurrentIdentity } from './current-identity.decorator';
import { IdentityVerifier } from './identity-verifier';
import { IdentityGuard, type RequestWithIdentity } from './identity.guard';

const pair = generateIdentityKeyPair();
const verifier = new IdentityVerifier(IdentityKeys.fromPem(pair.publicKeyPem));
const tenantAdmin = {
  userId: 'u-alice',
  userName: 'alice',
  tenantId: 'p-acme',
  roles: ['tenant-admin' as const],
};

function httpContext(request: RequestWithIdentity): ExecutionContext {
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe('IdentityGuard', () => {
  const guard = new IdentityGuard(verifier);

  it('attaches the verified identity to the request', () => {
    const request: RequestWithIdentity = {
      headers: { [IDENTITY_HEADER]: signIdentity(tenantAdmin, pair.privateKey) },
    };
    expect(guard.canActivate(httpContext(request))).toBe(true);
    expect(request.identity).toMatchObject(tenantAdmin);
  });

  it('answers 401 naming the gateway when the header is missing', () => {
    const run = () => guard.canActivate(httpContext({ headers: {} }));
    expect(run).toThrow(UnauthorizedException);
    expect(run).toThrow(/Missing x-stratum-identity header.*must come through the gateway/);
  });

  it('answers 401 with the reason when the token is not trusted', () => {
    const other = generateIdentityKeyPair();
    const request = { headers: { [IDENTITY_HEADER]: signIdentity(tenantAdmin, other.privateKey) } };
    const run = () => guard.canActivate(httpContext(request));
    expect(run).toThrow(UnauthorizedException);
    expect(run).toThrow(/Invalid x-stratum-identity header \(unknown-key\)/);
    expect(request).not.toHaveProperty('identity');
  });
});

describe('assertAllowed', () => {
  const identity: VerifiedIdentity = { ...tenantAdmin, issuedAt: 0, expiresAt: 30 };

  it('passes an allowed request and throws 403 with the reason otherwise', () => {
    expect(() =>
      assertAllowed(identity, { resource: 'volume', action: 'create', tenantId: 'p-acme' }),
    ).not.toThrow();
    const run = () => assertAllowed(identity, { resource: 'network', action: 'create', tenantId: null });
    expect(run).toThrow(ForbiddenException);
    expect(run).toThrow(/reserved to the platform admin/);
  });
});

@Controller('tenants/:tenantId/volumes')
@UseGuards(IdentityGuard)
class VolumesController {
  @Get()
  list(@CurrentIdentity() identity: VerifiedIdentity, @Param('tenantId') tenantId: string) {
    assertAllowed(identity, { resource: 'volume', action: 'read', tenantId });
    return { caller: identity.userId, tenantId };
  }
}

@Module({
  controllers: [VolumesController],
  providers: [{ provide: IdentityVerifier, useValue: verifier }],
})
class TestModule {}

describe('IdentityGuard in a Nest application', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('serves a caller with a valid identity, in its own tenant', async () => {
    const response = await fetch(`${url}/tenants/p-acme/volumes`, {
      headers: { [IDENTITY_HEADER]: signIdentity(tenantAdmin, pair.privateKey) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ caller: 'u-alice', tenantId: 'p-acme' });
  });

  it('answers 401 without a stack trace when the header is missing or forged', async () => {
    for (const headers of [{}, { [IDENTITY_HEADER]: 'not.a.token' }]) {
      const response = await fetch(`${url}/tenants/p-acme/volumes`, { headers });
      expect(response.status).toBe(401);
      const body = await response.text();
      expect(body).toMatch(/must come through the gateway/);
      expect(body).not.toMatch(/ at .*\.ts:\d+/);
    }
  });

  it('answers 403 for another tenant', async () => {
    const response = await fetch(`${url}/tenants/p-globex/volumes`, {
      headers: { [IDENTITY_HEADER]: signIdentity(tenantAdmin, pair.privateKey) },
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { message: string }).message).toMatch(/scoped to tenant p-acme/);
  });
});
