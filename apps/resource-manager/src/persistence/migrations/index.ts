import { CreateNetworks1763856000000 } from './1763856000000-CreateNetworks';
import { CreateTenantResources1764979200000 } from './1764979200000-CreateTenantResources';
import { CreateTenantMembers1765411200000 } from './1765411200000-CreateTenantMembers';

/**
 * The resource-manager's own migrations, in order, named <timestamp>-<VerbNoun>. The outbox/inbox tables come
 * first from @stratum/messaging (added by the service kit). Never `synchronize`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resourceManagerMigrations: Function[] = [
  CreateNetworks1763856000000,
  CreateTenantResources1764979200000,
  CreateTenantMembers1765411200000,
];
