/**
 * The orchestrator's OpenAPI 3.1 document (issue #5 §4), served at `GET /api/v1/openapi.json` for
 * the gateway to aggregate. Request bodies are rendered from the schemas that validate them; the
 * route list is checked against the controller's routes by openapi.spec.ts.
 */
import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument, type RouteDoc } from '@stratum/service-kit';
import { RollbackSchema, StackTemplateSchema } from './api-schemas';

const TENANT_READ = 'platform admin; every role of the tenant';
const TENANT_WRITE = 'platform admin; tenant admin, advanced and restricted members of the tenant';
const STACK = '/api/v1/tenants/{tenantId}/stacks/{name}';

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/stacks',
    summary: "List the tenant's stacks",
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'put',
    path: STACK,
    summary:
      'Submit a TOSCA template for the stack (R-OR-1, R-OR-6): validated, checked against the tenant’s resources, translated and recorded as the next revision, then deployed in dependency order',
    access: TENANT_WRITE,
    body: StackTemplateSchema,
    success: 202,
  },
  {
    method: 'post',
    path: `${STACK}/validate`,
    summary: 'Dry run: validate and translate a template against the tenant’s resources; records nothing',
    access: TENANT_READ,
    body: StackTemplateSchema,
    success: 200,
  },
  {
    method: 'get',
    path: STACK,
    summary: 'A stack and its running revision',
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'delete',
    path: STACK,
    summary: 'Delete the stack: units removed in reverse dependency order, autoscaling policies withdrawn',
    access: TENANT_WRITE,
    success: 202,
  },
  {
    method: 'get',
    path: `${STACK}/revisions`,
    summary: 'Every accepted template of the stack, with its outcome (R-OR-7)',
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'get',
    path: `${STACK}/revisions/{revision}`,
    summary: 'One revision: its plan (units, manifests, dependencies, autoscaling) and template',
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'get',
    path: `${STACK}/deployments`,
    summary: 'The deployments of the stack, oldest first',
    access: TENANT_READ,
    success: 200,
  },
  {
    method: 'post',
    path: `${STACK}/rollback`,
    summary: 'Run an earlier, successfully deployed revision again, recorded as a new revision (R-OR-7)',
    access: TENANT_WRITE,
    body: RollbackSchema,
    success: 202,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/{tenantId}/deployments/{deploymentId}',
    summary: 'A deployment’s state and per-unit progress',
    access: TENANT_READ,
    success: 200,
  },
];

export function openApiDocument(): Record<string, unknown> {
  return buildOpenApiDocument(
    {
      title: 'Stratum orchestrator',
      description:
        'TOSCA stacks: submission, revisions, dependency-ordered deployment and rollback (SPEC R-OR). See docs/tosca-profile.md and docs/stacks.md.',
      accepted:
        'Accepted; follow the deployment (Location header, GET /api/v1/tenants/{tenantId}/deployments/{id}, or the stack-deploy-progress topic)',
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
