import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  IdentityProvider,
  IssuedToken,
  ProjectRef,
  RoleAssignment,
  ValidatedToken,
} from '../keystone/identity-provider';

/** Stable ids across restarts (the services keep tenant ids), in Keystone's 32-hex form. */
function stableId(kind: string, name: string): string {
  return createHash('sha256').update(`stratum-dev:${kind}:${name}`).digest('hex').slice(0, 32);
}

interface DemoUser {
  name: string;
  /** project name → Keystone role names on it */
  roles: Record<string, string[]>;
  defaultProject: string;
}

/** The demo tenants and their five kinds of users (R-AU-3), printed by `npm start`. */
export const DEMO_PROJECTS = ['admin', 'demo-retail', 'demo-payments'] as const;

export const DEMO_USERS: readonly DemoUser[] = [
  { name: 'admin', roles: { admin: ['admin', 'member', 'reader'] }, defaultProject: 'admin' },
  ...(['demo-retail', 'demo-payments'] as const).flatMap((project) => {
    const short = project.replace('demo-', '');
    return [
      { name: `${short}-admin`, roles: { [project]: ['stratum-tenant-admin'] }, defaultProject: project },
      {
        name: `${short}-advanced`,
        roles: { [project]: ['stratum-advanced-member'] },
        defaultProject: project,
      },
      {
        name: `${short}-restricted`,
        roles: { [project]: ['stratum-restricted-member'] },
        defaultProject: project,
      },
      { name: `${short}-reader`, roles: { [project]: ['stratum-read-only'] }, defaultProject: project },
    ];
  }),
];

const TOKEN_LIFETIME_MS = 8 * 3600_000;

/**
 * The development identity provider (issue #6 §8): Keystone's token API shape with fixed demo users, so
 * the all-in-one mode works without Keystone. Every demo user has the same password (from
 * STRATUM_DEV_IDENTITY_PASSWORD, default `stratum-demo`). Tokens live in memory only. Never for
 * production: the gateway logs a warning at start and marks every response while it is on.
 */
export class DevIdentityProvider implements IdentityProvider {
  readonly kind = 'development';
  private readonly tokens = new Map<string, ValidatedToken>();
  private readonly password: Buffer;

  constructor(
    password: string,
    private readonly now: () => number = Date.now,
  ) {
    this.password = Buffer.from(password);
  }

  projectId(name: string): string {
    return stableId('project', name);
  }

  userId(name: string): string {
    return stableId('user', name);
  }

  async validateToken(token: string): Promise<ValidatedToken | null> {
    const found = this.tokens.get(token);
    if (!found) return null;
    if (found.expiresAt <= this.now()) {
      this.tokens.delete(token);
      return null;
    }
    return found;
  }

  revoke(token: string): boolean {
    return this.tokens.delete(token);
  }

  async issueToken(input: {
    username: string;
    password: string;
    project?: string;
  }): Promise<IssuedToken | null> {
    const user = DEMO_USERS.find((u) => u.name === input.username);
    const given = Buffer.from(input.password);
    if (!user || given.length !== this.password.length || !timingSafeEqual(given, this.password)) return null;
    const projectName = input.project;
    if (projectName !== undefined && !user.roles[projectName]) return null; // Keystone: 401 without a role there
    const validated: ValidatedToken = {
      userId: this.userId(user.name),
      userName: user.name,
      project: projectName
        ? { id: this.projectId(projectName), name: projectName, domainId: 'default' }
        : null,
      roleNames: projectName ? [...user.roles[projectName]!].sort() : [],
      expiresAt: this.now() + TOKEN_LIFETIME_MS,
    };
    const token = `dev-${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, validated);
    // Expired tokens are dropped as they are met; bound the map anyway.
    if (this.tokens.size > 100_000) this.tokens.delete(this.tokens.keys().next().value as string);
    return { token, validated };
  }

  async userAssignments(userId: string): Promise<RoleAssignment[]> {
    return this.assignments().filter((a) => a.userId === userId);
  }

  async projectAssignments(projectId: string): Promise<RoleAssignment[]> {
    return this.assignments().filter((a) => a.projectId === projectId);
  }

  async listProjects(): Promise<ProjectRef[]> {
    return DEMO_PROJECTS.map((name) => ({ id: this.projectId(name), name }));
  }

  private assignments(): RoleAssignment[] {
    return DEMO_USERS.flatMap((user) =>
      Object.entries(user.roles).flatMap(([projectName, roles]) =>
        roles.map((roleName) => ({
          userId: this.userId(user.name),
          userName: user.name,
          projectId: this.projectId(projectName),
          projectName,
          projectDomainId: 'default',
          roleName,
        })),
      ),
    );
  }
}
