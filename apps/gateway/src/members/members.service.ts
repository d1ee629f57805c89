import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { mapKeystoneRoles, type PlatformRole } from '@stratum/authz';
import { TenantMembersChanged } from '@stratum/contracts';
import { ServiceRuntime } from '@stratum/service-kit';
import type { ServerResponse } from 'node:http';
import { IdentityProviderToken } from '../gateway.tokens';
import { gatewayConfig } from '../gateway.providers';
import { Authenticator, type Caller } from '../keystone/authenticator';
import {
  type IdentityProvider,
  IdentityUnavailable,
  type RoleAssignment,
} from '../keystone/identity-provider';
import { sendError } from '../proxy/api-gateway';
import type { RouteMatch } from '../routing/route-table';

export interface TenantMember {
  userId: string;
  userName: string;
  roles: Exclude<PlatformRole, 'platform-admin'>[];
}

/**
 * A tenant's members as Keystone has them (R-AU-2: read, never written) — served on
 * `GET /api/v1/tenants/{tenantId}/members`, and mirrored into Kubernetes RBAC (R-AU-6): every
 * MEMBER_SYNC_INTERVAL_SECONDS the gateway reads each tenant's effective role assignments and, when a
 * tenant's members changed, publishes `tenant.members-changed` through the outbox; the resource-manager
 * turns it into Roles and RoleBindings in every environment of the tenant. The last published revision
 * per tenant is kept in the gateway's database, so replicas and restarts publish each change once.
 */
@Injectable()
export class MembersService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Completed sync rounds (tests wait on it). */
  rounds = 0;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly authenticator: Authenticator,
    @Inject(IdentityProviderToken) private readonly provider: IdentityProvider,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = gatewayConfig(this.runtime).MEMBER_SYNC_INTERVAL_SECONDS;
    if (seconds <= 0) return;
    const tick = () => {
      void this.syncAll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, seconds * 1000).unref();
      });
    };
    this.timer = setTimeout(tick, 1_000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The members of one tenant, each with their platform roles there (sorted by user id). */
  async members(tenantId: string, tenantName?: string): Promise<TenantMember[]> {
    return this.toMembers(await this.provider.projectAssignments(tenantId), tenantId, tenantName);
  }

  private toMembers(assignments: RoleAssignment[], tenantId: string, tenantName?: string): TenantMember[] {
    const byUser = new Map<string, { userName: string; roleNames: string[] }>();
    for (const a of assignments) {
      if (a.projectId !== tenantId) continue;
      const user = byUser.get(a.userId) ?? { userName: a.userName, roleNames: [] };
      user.roleNames.push(a.roleName);
      byUser.set(a.userId, user);
      tenantName ??= a.projectName;
    }
    return [...byUser.entries()]
      .map(([userId, { userName, roleNames }]) => ({
        userId,
        userName,
        roles: mapKeystoneRoles(
          { projectId: tenantId, projectName: tenantName ?? null, roleNames },
          this.authenticator.mapping,
        ).filter((r): r is TenantMember['roles'][number] => r !== 'platform-admin'),
      }))
      .filter((m) => m.roles.length > 0)
      .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  }

  /** The gateway's own route, after the permission check (`role-assignment` read). */
  async serve(match: RouteMatch, _caller: Caller, response: ServerResponse): Promise<number> {
    const tenantId = match.params.tenantId!;
    let items: TenantMember[];
    try {
      items = await this.members(tenantId);
    } catch (error) {
      if (error instanceof IdentityUnavailable) {
        return sendError(
          response,
          503,
          'DEPENDENCY_UNAVAILABLE',
          `Keystone is not answering: ${error.message}.`,
          'Retry shortly.',
        );
      }
      throw error;
    }
    const body = JSON.stringify({ items });
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
    return 200;
  }

  /** One round: every tenant project; publishes the tenants whose members changed. Errors are logged, the next round retries. */
  syncAll(): Promise<void> {
    return (this.running ??= this.round().finally(() => {
      this.running = undefined;
      this.rounds++;
    }));
  }

  private async round(): Promise<void> {
    const log = this.runtime.log.child({ component: 'member-sync' });
    const mapping = this.authenticator.mapping;
    const config = gatewayConfig(this.runtime);
    try {
      const projects = await this.provider.listProjects();
      for (const project of projects) {
        const isAdmin =
          project.id === mapping.adminProject.id ||
          (!mapping.adminProject.id && project.name === mapping.adminProject.name);
        if (isAdmin || project.name === config.KEYSTONE_SERVICE_PROJECT) continue;
        const members = await this.members(project.id, project.name);
        await this.publishIfChanged(project.id, project.name, members);
      }
    } catch (error) {
      log.warn('member sync round failed; the next round retries', { error: (error as Error).message });
    }
  }

  private async publishIfChanged(
    tenantId: string,
    tenantName: string,
    members: TenantMember[],
  ): Promise<boolean> {
    const revision = TenantMembersChanged.revisionOf(members);
    const database = this.runtime.database!;
    return database.transaction(async (manager) => {
      const rows = (await manager.query(
        `INSERT INTO tenant_member_snapshots (tenant_id, revision, published_at)
         VALUES ($1, $2, now())
         ON CONFLICT (tenant_id) DO UPDATE SET revision = EXCLUDED.revision, published_at = now()
           WHERE tenant_member_snapshots.revision <> EXCLUDED.revision
         RETURNING tenant_id`,
        [tenantId, revision],
      )) as unknown[];
      if (rows.length === 0) return false;
      await this.runtime.outbox.add(manager, TenantMembersChanged.Topic, {
        tenantId,
        tenantName,
        members,
        revision,
        observedAt: new Date().toISOString(),
      });
      return true;
    });
  }
}
