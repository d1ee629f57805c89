import { Inject, Injectable } from '@nestjs/common';
import {
  grantRegistryActions,
  mapKeystoneRoles,
  parseRegistryScope,
  type PlatformRole,
  type RegistryKind,
  type VerifiedIdentity,
} from '@stratum/authz';
import { ServiceRuntime } from '@stratum/service-kit';
import { createHash } from 'node:crypto';
import { AuditSink } from '../audit/audit-writer';
import { gatewayConfig } from '../gateway.providers';
import { IdentityProviderToken } from '../gateway.tokens';
import { Authenticator } from '../keystone/authenticator';
import type { IdentityProvider, ProjectRef, RoleAssignment } from '../keystone/identity-provider';
import { TokenCache } from '../keystone/token-cache';
import { type RegistryAccess, RegistryTokenSigner } from './registry-token-signer';

/** A registry login: the Keystone user behind a Basic credential. */
interface RegistryUser {
  userId: string;
  userName: string;
}

export type RegistryTokenResult =
  | { kind: 'token'; body: { token: string; access_token: string; expires_in: number; issued_at: string } }
  | { kind: 'unauthenticated'; message: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'disabled'; message: string };

/** The username that says the password is a Keystone token (CI pipelines, scripts). */
export const TOKEN_USERNAME = '_token';

const PROJECTS_TTL_MS = 60_000;

/**
 * The token service of the Docker Registry token-authentication spec for both registries (R-AU-5): one
 * sign-on (Keystone credentials), one permission model (the table in libs/authz, through
 * `grantRegistryActions`).
 *
 * - The `service` parameter says which registry asks: REGISTRY_TEST_SERVICE or
 *   REGISTRY_PRODUCTION_SERVICE.
 * - A repository `<namespace>/<image>` belongs to the tenant whose Keystone project name is its first
 *   path component (lower case); a namespace no project has is the platform admin's only.
 * - The caller's roles on that tenant come from Keystone's role assignments (a registry login is not
 *   scoped to one project: one `docker login` serves every tenant the user belongs to), plus platform
 *   admin from the admin project.
 * - Scopes are granted in part: the token lists only the actions allowed, as the spec says; the
 *   registry then refuses the rest. Each request is one audit entry naming what was refused.
 * Logins and assignments are cached for TOKEN_CACHE_TTL_SECONDS, like API tokens.
 */
@Injectable()
export class RegistryTokenService {
  readonly signer: RegistryTokenSigner | undefined;
  private readonly logins: TokenCache<RegistryUser | null>;
  private readonly assignments: TokenCache<RoleAssignment[]>;
  private projects: { at: number; byName: Map<string, ProjectRef> } | undefined;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditSink,
    @Inject(IdentityProviderToken) private readonly provider: IdentityProvider,
  ) {
    const config = gatewayConfig(runtime);
    if (config.REGISTRY_TOKEN_PRIVATE_KEY && config.REGISTRY_TOKEN_CERTIFICATE) {
      this.signer = RegistryTokenSigner.fromFiles(
        config.REGISTRY_TOKEN_PRIVATE_KEY,
        config.REGISTRY_TOKEN_CERTIFICATE,
        config.REGISTRY_TOKEN_ISSUER,
        config.REGISTRY_TOKEN_TTL_SECONDS,
      );
    }
    this.logins = new TokenCache(10_000);
    this.assignments = new TokenCache(10_000);
  }

  private get ttlMs(): number {
    return gatewayConfig(this.runtime).TOKEN_CACHE_TTL_SECONDS * 1000;
  }

  registryOf(service: string): RegistryKind | undefined {
    const config = gatewayConfig(this.runtime);
    if (service === config.REGISTRY_TEST_SERVICE) return 'test';
    if (service === config.REGISTRY_PRODUCTION_SERVICE) return 'production';
    return undefined;
  }

  async issue(input: {
    authorization?: string;
    service?: string;
    scopes: string[];
    clientIp?: string;
  }): Promise<RegistryTokenResult> {
    if (!this.signer) {
      return {
        kind: 'disabled',
        message:
          'The registry token service is not configured (REGISTRY_TOKEN_PRIVATE_KEY, REGISTRY_TOKEN_CERTIFICATE).',
      };
    }
    const registry = input.service ? this.registryOf(input.service) : undefined;
    if (!input.service || !registry) {
      return {
        kind: 'invalid',
        message: `service: unknown registry ${JSON.stringify(input.service ?? null)}; expected ${this.knownServices()}`,
      };
    }
    const started = performance.now();
    const user = await this.login(input.authorization);
    if (!user) {
      this.record({
        user: undefined,
        registry,
        service: input.service,
        outcome: 'denied',
        reason: 'bad or missing credentials',
        started,
        clientIp: input.clientIp,
      });
      return {
        kind: 'unauthenticated',
        message: 'Log in with your Keystone username and password (or _token and a Keystone token).',
      };
    }
    const access: RegistryAccess[] = [];
    const refused: string[] = [];
    for (const raw of input.scopes) {
      const parsed = parseRegistryScope(raw);
      if (!parsed.ok) return { kind: 'invalid', message: `scope: ${parsed.error}` };
      const scope = parsed.scope;
      const tenant = scope.type === 'repository' ? await this.tenantOfRepository(scope.name) : null;
      const identity = await this.identityOn(user, tenant);
      const { granted, denied } = grantRegistryActions(identity, {
        registry,
        tenantId: tenant?.id ?? null,
        requested: scope.actions,
        catalog: scope.type === 'registry',
      });
      if (granted.length) {
        const type = scope.typeClass ? `${scope.type}(${scope.typeClass})` : scope.type;
        access.push({ type, name: scope.name, actions: [...granted] });
      }
      for (const d of denied) refused.push(`${d.action} on ${scope.name}: ${d.reason}`);
    }
    const signed = this.signer.sign({ subject: user.userName, audience: input.service, access });
    this.record({
      user,
      registry,
      service: input.service,
      outcome: refused.length ? 'denied' : 'allowed',
      reason: refused.length ? refused.join('; ') : undefined,
      started,
      clientIp: input.clientIp,
      resourceId: input.scopes.join(' ') || null,
    });
    return {
      kind: 'token',
      body: {
        token: signed.token,
        access_token: signed.token,
        expires_in: signed.expiresIn,
        issued_at: signed.issuedAt,
      },
    };
  }

  private knownServices(): string {
    const config = gatewayConfig(this.runtime);
    return `${config.REGISTRY_TEST_SERVICE} or ${config.REGISTRY_PRODUCTION_SERVICE}`;
  }

  /** Basic credentials → the Keystone user (password login, or `_token` + a Keystone token). */
  private async login(authorization: string | undefined): Promise<RegistryUser | null> {
    if (!authorization?.toLowerCase().startsWith('basic ')) return null;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return null;
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (!password) return null;
    if (username === TOKEN_USERNAME) {
      const authn = await this.authenticator.authenticate(password);
      return authn.ok ? { userId: authn.caller.userId, userName: authn.caller.userName } : null;
    }
    // A password login costs Keystone a bcrypt (≈ 0.25 s): cache the outcome by a digest of the pair.
    const key = createHash('sha256').update(`${username}\0${password}`).digest('base64url');
    return this.logins.getOrLoad(
      key,
      async () => {
        const issued = await this.provider.issueToken({ username, password });
        return issued ? { userId: issued.validated.userId, userName: issued.validated.userName } : null;
      },
      (value) => Date.now() + (value ? this.ttlMs : Math.min(this.ttlMs, 5_000)),
    );
  }

  private async tenantOfRepository(name: string): Promise<ProjectRef | null> {
    const namespace = name.split('/')[0]!.toLowerCase();
    if (!this.projects || Date.now() - this.projects.at > PROJECTS_TTL_MS) {
      const list = await this.provider.listProjects();
      this.projects = { at: Date.now(), byName: new Map(list.map((p) => [p.name.toLowerCase(), p])) };
    }
    return this.projects.byName.get(namespace) ?? null;
  }

  /** The user as seen on one tenant: roles there, plus platform admin from the admin project. */
  private async identityOn(user: RegistryUser, tenant: ProjectRef | null): Promise<VerifiedIdentity> {
    const assignments = await this.assignments.getOrLoad(
      user.userId,
      () => this.provider.userAssignments(user.userId),
      () => Date.now() + this.ttlMs,
    );
    const byProject = new Map<string, { name: string; domainId: string; roles: string[] }>();
    for (const a of assignments) {
      const entry = byProject.get(a.projectId) ?? {
        name: a.projectName,
        domainId: a.projectDomainId,
        roles: [],
      };
      entry.roles.push(a.roleName);
      byProject.set(a.projectId, entry);
    }
    const roles = new Set<PlatformRole>();
    for (const [projectId, { name, domainId, roles: roleNames }] of byProject) {
      const mapped = mapKeystoneRoles(
        { projectId, projectName: name, projectDomainId: domainId, roleNames },
        this.authenticator.mapping,
      );
      for (const role of mapped) {
        if (role === 'platform-admin' || projectId === tenant?.id) roles.add(role);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    return {
      userId: user.userId,
      userName: user.userName,
      tenantId: tenant?.id ?? null,
      tenantName: tenant?.name,
      roles: tenant ? [...roles] : [...roles].filter((r) => r === 'platform-admin'),
      issuedAt: now,
      expiresAt: now + 30,
    };
  }

  private record(input: {
    user: RegistryUser | undefined;
    registry: RegistryKind;
    service: string;
    outcome: 'allowed' | 'denied';
    reason?: string;
    started: number;
    clientIp?: string;
    resourceId?: string | null;
  }): void {
    this.audit.record({
      actor: { userId: input.user?.userId ?? null, userName: input.user?.userName ?? null, roles: [] },
      tenantId: null,
      action: `registry.token`,
      resource: { kind: `${input.registry}-registry`, id: input.resourceId ?? null },
      outcome: input.outcome,
      ...(input.reason ? { reason: input.reason.slice(0, 1_000) } : {}),
      latencyMs: Math.round((performance.now() - input.started) * 1000) / 1000,
      sourceService: 'gateway',
      occurredAt: new Date().toISOString(),
    });
  }
}
