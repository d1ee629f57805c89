import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { IDENTITY_HEADER, IdentityError, type VerifiedIdentity } from '../identity';
import { IdentityVerifier } from './identity-verifier';

/** The part of an HTTP request the guard reads and writes. */
export interface RequestWithIdentity {
  headers: Record<string, string | string[] | undefined>;
  /** Set by {@link IdentityGuard} once the gateway's token is verified. */
  identity?: VerifiedIdentity;
}

const THROUGH_GATEWAY =
  'Requests to Stratum services must come through the gateway, which authenticates the caller and signs its identity.';

/**
 * Authenticates an HTTP request by the identity the gateway signed into the `x-stratum-identity`
 * header (R-AU-1) and attaches it as `request.identity`. A missing or untrustworthy header is a 401
 * whose message says what is wrong; authorization is the route's ({@link assertAllowed}).
 */
@Injectable()
export class IdentityGuard implements CanActivate {
  constructor(private readonly verifier: IdentityVerifier) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') {
      throw new Error(`IdentityGuard guards HTTP routes only, not ${context.getType()} handlers`);
    }
    const request = context.switchToHttp().getRequest<RequestWithIdentity>();
    const header = request.headers[IDENTITY_HEADER];
    if (header === undefined || header === '') {
      throw new UnauthorizedException(`Missing ${IDENTITY_HEADER} header. ${THROUGH_GATEWAY}`);
    }
    if (Array.isArray(header)) {
      throw new UnauthorizedException(`More than one ${IDENTITY_HEADER} header. ${THROUGH_GATEWAY}`);
    }
    try {
      request.identity = this.verifier.verify(header);
    } catch (error) {
      if (error instanceof IdentityError) {
        throw new UnauthorizedException(
          `Invalid ${IDENTITY_HEADER} header (${error.code}): ${error.message}. ${THROUGH_GATEWAY}`,
        );
      }
      throw error;
    }
    return true;
  }
}
