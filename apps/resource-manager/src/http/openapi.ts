/**
 * The resource-manager's OpenAPI 3.1 document (issue #4 §8), served at `GET /api/v1/openapi.json`
 * for the gateway to aggregate. Request bodies are rendered from the same zod schemas that validate
 * them; the route list below is checked against the controllers' routes by openapi.spec.ts.
 */
import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import {
  NetworkInputSchema,
  NetworkUpdateSchema,
  NfsServerInputSchema,
  TenantSettingsSchema,
  VolumeInputSchema,
  VolumeResizeSchema,
} from './api-schemas';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  /** Who may call it (the permission table in docs/identity.md has the detail). */
  access: string;
  body?: z.ZodType;
  /** 200, 201, 202 (operation) or 204. */
  success: 200 | 201 | 202 | 204;
}

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

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          description: 'VALIDATION_FAILED, NOT_FOUND, CONFLICT, FORBIDDEN, UNAUTHENTICATED, …',
        },
        message: { type: 'string', description: 'Names the field at fault: "<field>: <problem>"' },
        hint: { type: 'string', description: 'What to do next' },
        details: {
          type: 'object',
          properties: {
            problems: {
              type: 'array',
              items: {
                type: 'object',
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  },
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const success =
      route.success === 202
        ? {
            description:
              'Accepted; follow the operation (Location header, GET /api/v1/operations/{id}, or the operation-progress topic)',
          }
        : route.success === 204
          ? { description: 'Done' }
          : { description: 'OK' };
    (paths[route.path] ??= {})[route.method] = {
      summary: route.summary,
      description: `Access: ${route.access}.`,
      parameters,
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input' }) } },
            },
          }
        : {}),
      responses: {
        [String(route.success)]: success,
        '400': {
          description: 'Invalid input; nothing changed',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        '401': { description: 'No verified identity (call through the gateway)' },
        '403': { description: 'The identity may not do this on this tenant' },
        '404': { description: 'Unknown tenant or resource (the message names the field)' },
        '409': { description: 'Conflicts with the current state (the message says which and what to do)' },
      },
      security: [{ stratumIdentity: [] }],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stratum resource-manager',
      version: '1',
      description:
        'Networks, environments, NFS servers and volumes (SPEC R-NW, R-ST). See docs/resources.md.',
    },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        stratumIdentity: {
          type: 'apiKey',
          in: 'header',
          name: 'x-stratum-identity',
          description: 'Signed identity from the gateway (docs/identity.md)',
        },
      },
    },
  };
}

@Controller('api/v1')
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get('openapi.json')
  get() {
    return this.document;
  }
}
