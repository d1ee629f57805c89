/**
 * Platform-wide records a platform admin keeps (R-NW-2, R-ST-1): networks and NFS servers. Recording
 * is synchronous (nothing is built until assignment); each change is announced on the bus.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import type { VerifiedIdentity } from '@stratum/authz';
import { CurrentIdentity, IdentityGuard } from '@stratum/authz/nest';
import { KubeClusters } from '@stratum/kube';
import { parseOrThrow, validationFailed } from '../common/problems';
import { NetworkRegistry } from '../networks/network-registry';
import { NfsRegistry } from '../storage/nfs-registry';
import { allow } from './access';
import { NetworkInputSchema, NetworkUpdateSchema, NfsServerInputSchema } from './api-schemas';

@Controller('api/v1')
@UseGuards(IdentityGuard)
export class PlatformRecordsController {
  constructor(
    private readonly networks: NetworkRegistry,
    private readonly nfs: NfsRegistry,
    private readonly kube: KubeClusters,
  ) {}

  @Get('networks')
  async listNetworks(@CurrentIdentity() identity: VerifiedIdentity) {
    allow(identity, 'network', 'read', null);
    return { items: await this.networks.list() };
  }

  @Post('networks')
  async createNetwork(@CurrentIdentity() identity: VerifiedIdentity, @Body() body: unknown) {
    allow(identity, 'network', 'create', null);
    const input = parseOrThrow(NetworkInputSchema, body);
    this.knownCluster(input.clusterId);
    return this.networks.create(input);
  }

  @Get('networks/:networkId')
  async getNetwork(@CurrentIdentity() identity: VerifiedIdentity, @Param('networkId') networkId: string) {
    allow(identity, 'network', 'read', null);
    return this.networks.get(networkId);
  }

  @Put('networks/:networkId')
  async updateNetwork(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('networkId') networkId: string,
    @Body() body: unknown,
  ) {
    allow(identity, 'network', 'update', null);
    const { version, ...input } = parseOrThrow(NetworkUpdateSchema, body);
    this.knownCluster(input.clusterId);
    return this.networks.update(networkId, input, version);
  }

  @Delete('networks/:networkId')
  @HttpCode(204)
  async deleteNetwork(@CurrentIdentity() identity: VerifiedIdentity, @Param('networkId') networkId: string) {
    allow(identity, 'network', 'delete', null);
    await this.networks.delete(networkId);
  }

  @Get('nfs-servers')
  async listNfsServers(@CurrentIdentity() identity: VerifiedIdentity) {
    allow(identity, 'nfs-server', 'read', null);
    return { items: await this.nfs.list() };
  }

  @Post('nfs-servers')
  async createNfsServer(@CurrentIdentity() identity: VerifiedIdentity, @Body() body: unknown) {
    allow(identity, 'nfs-server', 'create', null);
    return this.nfs.create(parseOrThrow(NfsServerInputSchema, body));
  }

  @Get('nfs-servers/:nfsServerId')
  async getNfsServer(@CurrentIdentity() identity: VerifiedIdentity, @Param('nfsServerId') id: string) {
    allow(identity, 'nfs-server', 'read', null);
    return this.nfs.get(id);
  }

  @Put('nfs-servers/:nfsServerId')
  async updateNfsServer(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('nfsServerId') id: string,
    @Body() body: unknown,
  ) {
    allow(identity, 'nfs-server', 'update', null);
    return this.nfs.update(id, parseOrThrow(NfsServerInputSchema, body));
  }

  @Delete('nfs-servers/:nfsServerId')
  @HttpCode(204)
  async deleteNfsServer(@CurrentIdentity() identity: VerifiedIdentity, @Param('nfsServerId') id: string) {
    allow(identity, 'nfs-server', 'delete', null);
    await this.nfs.delete(id);
  }

  private knownCluster(clusterId: string) {
    if (!this.kube.has(clusterId)) {
      throw validationFailed([
        {
          field: 'clusterId',
          message: `unknown cluster "${clusterId}"; this resource-manager knows ${this.kube.names().join(', ')}`,
        },
      ]);
    }
  }
}
