import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { TenantIdSchema, TimestampSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/**
 * A tenant's members as Keystone has them changed (R-AU-2, R-AU-6). The gateway reads every tenant's
 * role assignments periodically and publishes the whole member list of a tenant whenever it differs
 * from the last one it published; the resource-manager mirrors it into Kubernetes RBAC (a Role and a
 * RoleBinding `stratum-<role>` per tenant role in every environment of the tenant).
 *
 * - The event carries the complete state, not a delta: the topic is compacted and the latest event per
 *   tenant (the key) is the tenant's membership; a consumer that replays it ends in the same state.
 * - `members` is sorted by `userId`, one entry per user, each with the tenant roles the user holds
 *   there. `platform-admin` is never a tenant member role: the platform admin is not mirrored into
 *   tenants' namespaces. A user with no tenant role is not listed.
 * - `revision` is the SHA-256 (hex) of the canonical member list ({@link revisionOf}): equal states have
 *   equal revisions, so consumers skip a republished state and break ties between events observed at
 *   the same instant. `observedAt` orders states: a consumer keeps the newest it has seen, since a replay
 *   may deliver an older state after a newer one.
 */

/** The tenant roles (R-AU-3) a Keystone user can hold in a tenant; `platform-admin` is platform-wide. */
export const MemberRoleSchema = z.enum(['tenant-admin', 'advanced-member', 'restricted-member', 'read-only']);
export type MemberRole = z.infer<typeof MemberRoleSchema>;

export const MemberSchema = z.object({
  /** Keystone user id. */
  userId: z.string().min(1),
  /** Keystone user name: what Kubernetes' Keystone authentication webhook reports as the user's name. */
  userName: z.string().min(1),
  roles: z
    .array(MemberRoleSchema)
    .min(1)
    .refine((roles) => new Set(roles).size === roles.length, 'must not repeat a role'),
});
export type Member = z.infer<typeof MemberSchema>;

export const Schema = z.object({
  tenantId: TenantIdSchema,
  /** The Keystone project name, for messages and labels (the id is the key). */
  tenantName: z.string().min(1),
  members: z
    .array(MemberSchema)
    .refine(
      (members) => members.every((member, i) => i === 0 || members[i - 1]!.userId < member.userId),
      'must be sorted by userId, one entry per user',
    ),
  /** SHA-256 (64 lower-case hex) of the canonical member list, see {@link revisionOf}. */
  revision: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lower-case hex'),
  /** When the gateway read these assignments from Keystone. */
  observedAt: TimestampSchema,
});
export type Value = z.infer<typeof Schema>;

/**
 * The revision of a member list: SHA-256 (hex) of its JSON with the fields in the order
 * userId, userName, roles — the list as the event carries it (sorted by userId).
 */
export function revisionOf(members: readonly Member[]): string {
  const canonical = members.map(({ userId, userName, roles }) => ({ userId, userName, roles }));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export const Event = defineEvent({
  type: 'tenant.members-changed',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.tenant.members-changed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  // The latest member list per tenant is the tenant's membership.
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['gateway'],
  consumers: ['resource-manager'],
  description:
    "A tenant's members and their tenant roles as Keystone has them changed; mirrored into Kubernetes RBAC (R-AU-6).",
});
