/**
 * Consumes the gateway's `tenant.members-changed` (R-AU-6). The kit validates each event against the
 * contract (an invalid one goes to `stratum.resource-manager.dead-letter.v1`), drops duplicates through
 * the inbox and runs the handler in the inbox's transaction, so the stored members, the tenant's new
 * generation and the inbox record commit together. The reconciler picks the tenant up at its next poll.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { type EventEnvelope, TenantMembersChanged } from '@stratum/contracts';
import type { EventContext } from '@stratum/messaging';
import { OnEvent } from '@stratum/messaging/nest';
import { ServiceRuntime } from '@stratum/service-kit';
import { recordMembers } from './tenant-members';

@Controller()
export class TenantMembersConsumer {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  @OnEvent(TenantMembersChanged.Topic)
  async membersChanged(
    @Payload() event: EventEnvelope<TenantMembersChanged.Value>,
    @Ctx() { manager }: EventContext,
  ) {
    const outcome = await recordMembers(manager, event.data);
    const log = this.runtime.log.child({ component: 'tenant-members' });
    (outcome === 'changed' ? log.info : log.debug).call(log, `tenant members ${outcome}`, {
      tenantId: event.data.tenantId,
      revision: event.data.revision,
      members: event.data.members.length,
      observedAt: event.data.observedAt,
    });
  }
}
