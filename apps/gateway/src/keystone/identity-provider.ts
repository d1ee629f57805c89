/**
 * What the gateway needs from an identity service (R-AU-2): Keystone v3 in production
 * ({@link KeystoneClient}), the built-in development provider in the all-in-one mode. Read-only: the
 * platform never creates or edits users, projects or role assignments.
 */

/** A token as Keystone describes it on validation. */
export interface ValidatedToken {
  userId: string;
  userName: string;
  /** Null for an unscoped token. */
  project: { id: string; name: string; domainId: string } | null;
  /** Keystone role names on that project (implied roles included, as Keystone lists them). */
  roleNames: string[];
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface IssuedToken {
  token: string;
  validated: ValidatedToken;
}

/** A user's effective role on one project, from Keystone's role assignments. */
export interface RoleAssignment {
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  projectDomainId: string;
  roleName: string;
}

export interface ProjectRef {
  id: string;
  name: string;
}

export interface IdentityProvider {
  /** `'keystone'` or `'development'` (logged, and shown on /health). */
  readonly kind: string;
  /** The caller's token → who; `null` when the token is unknown, revoked or expired. Throws {@link IdentityUnavailable}. */
  validateToken(token: string): Promise<ValidatedToken | null>;
  /** Username and password → a token; `null` for wrong credentials. Throws {@link IdentityUnavailable}. */
  issueToken(input: { username: string; password: string; project?: string }): Promise<IssuedToken | null>;
  /** Every effective assignment of one user (registry logins span tenants). */
  userAssignments(userId: string): Promise<RoleAssignment[]>;
  /** Every effective assignment on one project (RBAC mirroring, R-AU-6). */
  projectAssignments(projectId: string): Promise<RoleAssignment[]>;
  /** Enabled projects of the tenants' domain. */
  listProjects(): Promise<ProjectRef[]>;
  close?(): Promise<void>;
}

/** The identity service does not answer (or answers 5xx): the gateway fails closed. */
export class IdentityUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityUnavailable';
  }
}
