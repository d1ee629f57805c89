import { assertAllowed } from '@stratum/authz/nest';
import type { AuthzAction, AuthzResource, VerifiedIdentity } from '@stratum/authz';

/**
 * The service's own check (issue #4 §8): the gateway enforces roles, and the service still refuses a
 * request whose verified tenant does not own the resource — one evaluation function for both.
 */
export function allow(
  identity: VerifiedIdentity,
  resource: AuthzResource,
  action: AuthzAction,
  tenantId: string | null,
): void {
  assertAllowed(identity, { resource, action, tenantId });
}

/** Who asked, as recorded on operations. */
export function requester(identity: VerifiedIdentity): string {
  return identity.userName || identity.userId;
}
