import { ForbiddenException } from '@nestjs/common';
import type { VerifiedIdentity } from '../identity';
import { type AuthzRequest, authorize } from '../permissions';

/** Authorizes a request (see `authorize`); a denial is a 403 carrying the reason. */
export function assertAllowed(identity: VerifiedIdentity, request: AuthzRequest): void {
  const decision = authorize(identity, request);
  if (!decision.allowed) throw new ForbiddenException(decision.reason);
}
