/**
 * The resource-manager's OpenAPI 3.1 document (issue #4 §8), served at `GET /api/v1/openapi.json`
 * for the gateway to aggregate. Request bodies are rendered from the same zod schemas that validate
 * them; the route list below is checked against the controllers' routes by openapi.spec.ts.
 */
import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument, type RouteDoc } from '@stratum/service-kit';
import {
  NetworkInputSchema,
  NetworkUpdateSchema,
  NfsServerInputSchema,
  TenantSettingsSchema,
  VolumeInputSchema,
  VolumeResizeSchema,
} from './api-schemas';

const ADMIN = 'platform admin';
const TENANT_READ = 'platform admin; every role of the tenant';
const TENANT_WRITE = 'platform admin; tenant admin, advanced and restricted members of the tenant';

export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/api/v1/networks', summary: 'List network records', access: ADMIN, success: 200 },
  {
    method: 'post',
    path: '/api/v1/networks',
    summary: 'Record a network (R-NW-2)',
    access: ADMIN,
    body: NetworkInputSchema,
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/networks/{networkId}',
    summary: 'Read a network record',
    access: ADMIN,
    success: 200,
  },
  {
    method: 'put',
    path: '/api/v1/networks/{networkId}',
    summary: 'Change a network record (assigned: no subnet change)',
    access: ADMIN,
    body: NetworkUpdateSchema,
    success: 200,
  },
  {
    method: 'delete',
    path: '/api/v1/networks/{networkId}',
    summary: 'Delete an unassigned network record',
    access: ADMIN,
    success: 204,
  },
  { method: 'get', path: '/api/v1/nfs-servers', summary: 'List NFS servers', access: ADMIN, success: 200 },
  {
    method: 'post',
    path: '/api/v1/nfs-servers',
    summary: 'Record an NFS server (R-ST-1, R-ST-4)',
    access: ADMIN,
    body: NfsServerInputSchema,
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/nfs-servers/{nfsServerId}',
    summary: 'Read an NFS server',
    access: ADMIN,
    success: 200,
  },
  {
    method: 'put',
    path: '/api/v1/nfs-servers/{nfsServerId}',
    summary: 'Change an NFS server record',
    access: ADMIN,
    body: NfsServerInputSchema,
    success: 200,
  },
  {
    method: 'delete',
    path: '/api/v1/nfs-servers/{nfsServerId}',
    summary: 'Delete an unassigned NFS server',
    access: ADMIN,
    success: 204,
  },
  { method: 'get', path: '/api/v1/tenants', summary: 'List registered tenants', access: ADMIN, success: 200 },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}',
    summary: "Read a tenant's settings and reconcile status",
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'put',
    path: '/api/v1/tenants/{tenantId}',
    summary: 'Register a Keystone project as a tenant, or change its settings',
    access: ADMIN,
    body: TenantSettingsSchema,
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/environments',
    summary: "List the tenant's environments",
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/environments/{environmentId}',
    summary: 'Read one environment',
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'put',
    path: '/api/v1/tenants/{tenantId}/networks/{networkId}',
    summary: 'Assign a network: create and link its environment (R-NW-3, R-NW-4)',
    access: ADMIN,
    success: 202,
  },
  {
    method: 'delete',
    path: '/api/v1/tenants/{tenantId}/networks/{networkId}',
    summary: 'Unassign a network: unlink and remove its environment once nothing runs there',
    access: ADMIN,
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/nfs-servers',
    summary: "List the tenant's NFS servers",
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'put',
    path: '/api/v1/tenants/{tenantId}/nfs-servers/{nfsServerId}',
    summary: 'Assign an NFS server: provisioning in every environment (R-ST-2)',
    access: ADMIN,
    success: 202,
  },
  {
    method: 'delete',
    path: '/api/v1/tenants/{tenantId}/nfs-servers/{nfsServerId}',
    summary: 'Unassign an NFS server the tenant has no volumes on',
    access: ADMIN,
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/volumes',
    summary: "List the tenant's volumes",
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/{tenantId}/volumes',
    summary: 'Create a tenant-wide volume on one of its NFS servers (R-ST-3)',
    access: TENANT_WRITE,
    body: VolumeInputSchema,
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/volumes/{volumeId}',
    summary: 'Read a volume',
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'patch',
    path: '/api/v1/tenants/{tenantId}/volumes/{volumeId}',
    summary: 'Grow a volume',
    access: TENANT_WRITE,
    body: VolumeResizeSchema,
    success: 202,
  },
  {
    method: 'delete',
    path: '/api/v1/tenants/{tenantId}/volumes/{volumeId}',
    summary: 'Delete a volume no workload mounts',
    access: TENANT_WRITE,
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/operations',
    summary: "List the tenant's operations (?open=true: unfinished only)",
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/operations/{operationId}',
    summary: 'Progress and result of an operation',
    access: TENANT_READ,
    success: 200,
  },
];

export function openApiDocument(): Record<string, unknown> {
  return buildOpenApiDocument(
    {
      title: 'Stratum resource-manager',
      description:
        'Networks, environments, NFS servers and volumes (SPEC R-NW, R-ST). See docs/resources.md.',
      accepted:
        'Accepted; follow the operation (Location header, GET /api/v1/operations/{id}, or the operation-progress topic)',
    },
    ROUTES,
  );
}

@Controller('api/v1')
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get('openapi.json')
  get() {
    return this.document;
  }
}
