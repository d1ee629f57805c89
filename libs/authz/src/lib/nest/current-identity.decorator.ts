import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedIdentity } from '../identity';
import type { RequestWithIdentity } from './identity.guard';

/** The caller's verified identity, in a route guarded by `IdentityGuard`. */
export const CurrentIdentity = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedIdentity => {
    const identity = context.switchToHttp().getRequest<RequestWithIdentity>().identity;
    if (!identity) {
      // A programming error (500), not the caller's: the route lacks @UseGuards(IdentityGuard).
      throw new Error('@CurrentIdentity() used on a route without IdentityGuard');
    }
    return identity;
  },
);
