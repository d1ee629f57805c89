import { CreateTenantMemberSnapshots1765324800000 } from './1765324800000-CreateTenantMemberSnapshots';

/**
 * The gateway's own migrations, in order, named <timestamp>-<VerbNoun>. The outbox/inbox tables come
 * first from @stratum/messaging (added by the service kit). Never `synchronize`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const gatewayMigrations: Function[] = [CreateTenantMemberSnapshots1765324800000];
