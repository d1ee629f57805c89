/**
 * Tenant-scoped API (issue #4 §8): tenant settings, network and NFS assignments, environments,
 * volumes and operations. Changes answer 202 with the operation (`Location: /api/v1/operations/{id}`);
 * every route checks the verified identity against the tenant in the path.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { VerifiedIdentity } from '@stratum/authz';
import { CurrentIdentity, IdentityGuard } from '@stratum/authz/nest';
import type { Response } from 'express';
import { parseOrThrow } from '../common/problems';
import { NetworkAssignments } from '../environments/network-assignments';
import { type Operation, Operations } from '../operations/operations';
import { ReconcileWorker } from '../reconcile/reconcile-worker';
import { NfsRegistry } from '../storage/nfs-registry';
import { VolumeRegistry } from '../storage/volume-registry';
import { TenantRegistry } from '../tenants/tenant-registry';
import { allow, requester } from './access';
import { TenantSettingsSchema, VolumeInputSchema, VolumeResizeSchema } from './api-schemas';

@Controller('api/v1')
@UseGuards(IdentityGuard)
export class TenantsController {
  constructor(
    private readonly tenants: TenantRegistry,
    private readonly assignments: NetworkAssignments,
    private readonly nfs: NfsRegistry,
    private readonly volumes: VolumeRegistry,
    private readonly operations: Operations,
    private readonly worker: ReconcileWorker,
  ) {}

  @Get('tenants')
  async list(@CurrentIdentity() identity: VerifiedIdentity) {
    allow(identity, 'tenant', 'read', null);
    return { items: await this.tenants.list() };
  }

  @Get('tenants/:tenantId')
  async get(@CurrentIdentity() identity: VerifiedIdentity, @Param('tenantId') tenantId: string) {
    allow(identity, 'tenant', 'read', tenantId);
    return this.tenants.get(tenantId);
  }

  @Put('tenants/:tenantId')
  @HttpCode(202)
  async put(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'tenant', 'update', tenantId);
    const { tenant, operation } = await this.tenants.put(
      tenantId,
      parseOrThrow(TenantSettingsSchema, body),
      requester(identity),
    );
    return this.accepted(response, operation, { tenant });
  }

  @Get('tenants/:tenantId/environments')
  async environments(@CurrentIdentity() identity: VerifiedIdentity, @Param('tenantId') tenantId: string) {
    allow(identity, 'environment', 'read', tenantId);
    return { items: await this.assignments.list(tenantId) };
  }

  @Get('tenants/:tenantId/environments/:environmentId')
  async environment(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('environmentId') environmentId: string,
  ) {
    allow(identity, 'environment', 'read', tenantId);
    return this.assignments.get(tenantId, environmentId);
  }

  @Put('tenants/:tenantId/networks/:networkId')
  @HttpCode(202)
  async assignNetwork(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('networkId') networkId: string,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'network-assignment', 'create', tenantId);
    const { environment, operation } = await this.assignments.assign(
      tenantId,
      networkId,
      requester(identity),
    );
    return this.accepted(response, operation, { environment });
  }

  @Delete('tenants/:tenantId/networks/:networkId')
  @HttpCode(202)
  async unassignNetwork(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('networkId') networkId: string,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'network-assignment', 'delete', tenantId);
    const { environment, operation } = await this.assignments.unassign(
      tenantId,
      networkId,
      requester(identity),
    );
    return this.accepted(response, operation, { environment });
  }

  @Get('tenants/:tenantId/nfs-servers')
  async nfsServers(@CurrentIdentity() identity: VerifiedIdentity, @Param('tenantId') tenantId: string) {
    allow(identity, 'nfs-assignment', 'read', tenantId);
    return { items: await this.nfs.assignments(tenantId) };
  }

  @Put('tenants/:tenantId/nfs-servers/:nfsServerId')
  @HttpCode(202)
  async assignNfs(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('nfsServerId') nfsServerId: string,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'nfs-assignment', 'create', tenantId);
    const { assignment, operation } = await this.nfs.assign(tenantId, nfsServerId, requester(identity));
    return this.accepted(response, operation, { assignment });
  }

  @Delete('tenants/:tenantId/nfs-servers/:nfsServerId')
  @HttpCode(202)
  async unassignNfs(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('nfsServerId') nfsServerId: string,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'nfs-assignment', 'delete', tenantId);
    const { operation } = await this.nfs.unassign(tenantId, nfsServerId, requester(identity));
    return this.accepted(response, operation, {});
  }

  @Get('tenants/:tenantId/volumes')
  async listVolumes(@CurrentIdentity() identity: VerifiedIdentity, @Param('tenantId') tenantId: string) {
    allow(identity, 'volume', 'read', tenantId);
    return { items: await this.volumes.list(tenantId) };
  }

  @Post('tenants/:tenantId/volumes')
  @HttpCode(202)
  async createVolume(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'volume', 'create', tenantId);
    const { volume, operation } = await this.volumes.create(
      tenantId,
      parseOrThrow(VolumeInputSchema, body),
      requester(identity),
    );
    return this.accepted(response, operation, { volume });
  }

  @Get('tenants/:tenantId/volumes/:volumeId')
  async getVolume(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('volumeId') volumeId: string,
  ) {
    allow(identity, 'volume', 'read', tenantId);
    return this.volumes.get(tenantId, volumeId);
  }

  @Patch('tenants/:tenantId/volumes/:volumeId')
  @HttpCode(202)
  async resizeVolume(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('volumeId') volumeId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'volume', 'update', tenantId);
    const { sizeBytes } = parseOrThrow(VolumeResizeSchema, body);
    const { volume, operation } = await this.volumes.resize(
      tenantId,
      volumeId,
      sizeBytes,
      requester(identity),
    );
    return this.accepted(response, operation, { volume });
  }

  @Delete('tenants/:tenantId/volumes/:volumeId')
  @HttpCode(202)
  async deleteVolume(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('volumeId') volumeId: string,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'volume', 'delete', tenantId);
    const { volume, operation } = await this.volumes.delete(tenantId, volumeId, requester(identity));
    return this.accepted(response, operation, { volume });
  }

  @Get('tenants/:tenantId/operations')
  async tenantOperations(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Query('open') open?: string,
  ) {
    allow(identity, 'operation', 'read', tenantId);
    return { items: await this.operations.list({ tenantId, open: open === 'true' }) };
  }

  @Get('operations/:operationId')
  async operation(@CurrentIdentity() identity: VerifiedIdentity, @Param('operationId') operationId: string) {
    const operation = await this.operations.get(operationId);
    allow(identity, 'operation', 'read', operation.tenantId);
    return operation;
  }

  /** 202: the change is recorded; the reconciler is woken and the caller follows the operation. */
  private accepted(response: Response, operation: Operation, body: Record<string, unknown>) {
    this.worker.wake();
    response.location(`/api/v1/operations/${operation.id}`);
    return { ...body, operation };
  }
}
