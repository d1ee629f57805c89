import { CreateTenantView1765065600000 } from './1765065600000-CreateTenantView';
import { CreateStacks1765152000000 } from './1765152000000-CreateStacks';
import { AddNetworkGateway1765238400000 } from './1765238400000-AddNetworkGateway';

/**
 * The orchestrator's own migrations, in order, named <timestamp>-<VerbNoun>. The outbox/inbox tables come
 * first from @stratum/messaging (added by the service kit). Never `synchronize`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const orchestratorMigrations: Function[] = [
  CreateTenantView1765065600000,
  CreateStacks1765152000000,
  AddNetworkGateway1765238400000,
];
