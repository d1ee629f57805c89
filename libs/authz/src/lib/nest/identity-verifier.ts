import { Injectable } from '@nestjs/common';
import { IdentityKeys, verifyIdentity, type VerifiedIdentity } from '../identity';

/**
 * The service's accepted gateway keys and the verification of a token against them. Provided by the
 * service kit (`ServiceCoreModule`) to services that declare `verifiesIdentity`.
 */
@Injectable()
export class IdentityVerifier {
  constructor(
    readonly keys: IdentityKeys,
    private readonly options: { clockSkewSeconds?: number } = {},
  ) {}

  /** The identity a token carries; throws `IdentityError` when it must not be trusted. */
  verify(token: string, now?: number): VerifiedIdentity {
    return verifyIdentity(token, this.keys, { now, clockSkewSeconds: this.options.clockSkewSeconds });
  }
}
