import { DEFAULT_IDENTITY_TTL_SECONDS, signIdentity } from '@stratum/authz';
import type { KeyObject } from 'node:crypto';
import type { Caller } from '../keystone/authenticator';

/** How long one signed identity is sent again for the same caller: it has ≥ 20 s of its 30 left on arrival. */
export const IDENTITY_REUSE_SECONDS = 10;

/**
 * The signed identity (R-AU-1) the gateway sends with a caller's requests. An Ed25519 signature was
 * the largest single cost of a proxied request (≈ 65 µs of ≈ 150 µs of the gateway's own work, in a
 * CPU profile of bench:gateway), so one token is signed per caller and reused for
 * {@link IDENTITY_REUSE_SECONDS}, then signed afresh. This leaves what a service can trust unchanged:
 * the gateway still authenticates and authorizes every request before sending the token, a token
 * names only who is calling (user, tenant, roles; the request id travels in `x-request-id`), and a
 * captured one was already replayable until it expired. A caller is one token validation (the
 * authenticator's cache entry): when the token is validated again, or its roles change, the next
 * request gets a new signature.
 */
export class CallerIdentities {
  private readonly signed = new WeakMap<Caller, { token: string; renewAt: number }>();

  constructor(
    private readonly key: KeyObject,
    private readonly reuseSeconds = IDENTITY_REUSE_SECONDS,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {
    if (!(reuseSeconds >= 0 && reuseSeconds < DEFAULT_IDENTITY_TTL_SECONDS))
      throw new Error(
        `reuseSeconds must be at least 0 and under the identity's ${DEFAULT_IDENTITY_TTL_SECONDS} s, got ${reuseSeconds}`,
      );
  }

  /** The caller's current signed identity, signed now when it is older than the reuse period. */
  tokenFor(caller: Caller): string {
    const now = this.nowSeconds();
    const held = this.signed.get(caller);
    if (held && now < held.renewAt) return held.token;
    // A caller has the identity's fields (and no request id); signIdentity reads only those.
    const token = signIdentity(caller, this.key, { now });
    this.signed.set(caller, { token, renewAt: now + this.reuseSeconds });
    return token;
  }
}
