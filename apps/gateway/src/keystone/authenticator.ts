import { mapKeystoneRoles, type PlatformRole, type RoleMappingConfig } from '@stratum/authz';
import type { IdentityProvider, ValidatedToken } from './identity-provider';
import { TokenCache } from './token-cache';

/**
 * Who is calling, once Keystone (or the cache) vouched for the token. One object per validation, shared
 * by every request that presents the token until it is validated again: treat it as read-only.
 */
export interface Caller {
  userId: string;
  userName: string;
  /** The Keystone project the token is scoped to; null for an unscoped token. */
  tenantId: string | null;
  tenantName?: string;
  roles: PlatformRole[];
  /** Epoch ms. */
  tokenExpiresAt: number;
}

export type Authentication = { ok: true; caller: Caller } | { ok: false; reason: string };

/** A token Keystone refused is remembered this long (at most), so a retry storm does not reach Keystone. */
const NEGATIVE_TTL_MS = 10_000;

/**
 * Token → caller (R-AU-2): asks the identity provider once per token and TTL, maps Keystone role names
 * to platform roles. Fail-closed: when Keystone does not answer, a token validated within the TTL keeps
 * working, any other token gets {@link IdentityUnavailable} from the provider (a 503), never access.
 */
export class Authenticator {
  /** Callers by token digest, their roles mapped once per validation (null: Keystone refused the token). */
  readonly cache: TokenCache<Caller | null>;

  constructor(
    private readonly provider: IdentityProvider,
    readonly mapping: RoleMappingConfig,
    private readonly ttlMs: number,
    maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TokenCache(maxEntries, now);
  }

  async authenticate(token: string): Promise<Authentication> {
    const key = TokenCache.keyOf(token);
    const caller = await this.cache.getOrLoad(
      key,
      async () => {
        const validated = await this.provider.validateToken(token);
        return validated ? this.toCaller(validated) : null;
      },
      (value) =>
        value
          ? Math.min(this.now() + this.ttlMs, value.tokenExpiresAt)
          : this.now() + Math.min(this.ttlMs, NEGATIVE_TTL_MS),
    );
    if (!caller) {
      return { ok: false, reason: 'the token is unknown to Keystone, revoked or expired; get a new one' };
    }
    if (caller.tokenExpiresAt <= this.now()) {
      this.cache.delete(key);
      return { ok: false, reason: 'the token has expired; get a new one' };
    }
    return { ok: true, caller };
  }

  toCaller(validated: ValidatedToken): Caller {
    return {
      userId: validated.userId,
      userName: validated.userName,
      tenantId: validated.project?.id ?? null,
      tenantName: validated.project?.name,
      roles: mapKeystoneRoles(
        {
          projectId: validated.project?.id ?? null,
          projectName: validated.project?.name ?? null,
          projectDomainId: validated.project?.domainId ?? null,
          roleNames: validated.roleNames,
        },
        this.mapping,
      ),
      tokenExpiresAt: validated.expiresAt,
    };
  }
}
