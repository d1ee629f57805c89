/**
 * The orchestrator's tenant-scoped API (issue #5 §4–5, R-OR-1..7): submit a template for a stack (a
 * new revision), dry-run one, follow deployments, list revisions, roll back explicitly, delete. Changes
 * answer 202 with the deployment (`Location: /api/v1/tenants/{t}/deployments/{id}`), whose units'
 * progress is on that resource and on the stack-deploy-progress topic. Every route checks the verified
 * identity against the tenant in the path; another tenant's stack is simply not found.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import { type AuthzAction, type VerifiedIdentity } from '@stratum/authz';
import { assertAllowed, CurrentIdentity, IdentityGuard } from '@stratum/authz/nest';
import { parseOrThrow, problemsOf, validationFailed } from '@stratum/service-kit';
import type { Response } from 'express';
import { stackNotFound } from '../deploy/deploy-errors';
import type { Deployment, Stack } from '../deploy/deploy-model';
import { StackStore } from '../deploy/stack-store';
import { RollbackSchema, StackNameSchema, type StackTemplate, StackTemplateSchema } from './api-schemas';
import { StackSubmissions } from './stack-submissions';

function allow(identity: VerifiedIdentity, action: AuthzAction, tenantId: string): void {
  assertAllowed(identity, { resource: 'stack', action, tenantId });
}

function requester(identity: VerifiedIdentity): string {
  return identity.userName || identity.userId;
}

/** The stack name in the path and the template in the body, with every problem of both in one 400. */
function parseRequest(name: string, body: unknown): { stack: string; template: StackTemplate } {
  const stack = StackNameSchema.safeParse(name);
  const template = StackTemplateSchema.safeParse(body);
  if (stack.success && template.success) return { stack: stack.data, template: template.data };
  throw validationFailed([
    ...(stack.success ? [] : problemsOf(stack.error, 'name')),
    ...(template.success ? [] : problemsOf(template.error)),
  ]);
}

@Controller('api/v1/tenants/:tenantId')
@UseGuards(IdentityGuard)
export class StacksController {
  constructor(
    private readonly stacks: StackStore,
    private readonly submissions: StackSubmissions,
  ) {}

  @Get('stacks')
  async list(@CurrentIdentity() identity: VerifiedIdentity, @Param('tenantId') tenantId: string) {
    allow(identity, 'read', tenantId);
    return { items: await this.stacks.listStacks(tenantId) };
  }

  /** Validates and translates a template against the tenant's resources; records nothing. */
  @Post('stacks/:name/validate')
  @HttpCode(200)
  async validate(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
    @Body() body: unknown,
  ) {
    allow(identity, 'read', tenantId);
    const request = parseRequest(name, body);
    const translation = await this.submissions.translate(tenantId, request.stack, request.template);
    return {
      valid: translation.ok,
      diagnostics: translation.diagnostics,
      plan: translation.plan ?? null,
    };
  }

  /**
   * Submits a template for the stack: the first creates it, each later one is an update (R-OR-6).
   * Accepted templates become revision n+1 and are deployed in dependency order.
   */
  @Put('stacks/:name')
  @HttpCode(202)
  async put(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ) {
    const existing = await this.stacks.findStack(tenantId, name);
    allow(identity, existing && existing.status !== 'deleted' ? 'update' : 'create', tenantId);
    const request = parseRequest(name, body);
    const accepted = await this.submissions.submit(
      tenantId,
      request.stack,
      request.template,
      requester(identity),
    );
    return this.accepted(response, accepted.deployment, {
      stack: accepted.stack,
      revision: accepted.revision,
      warnings: accepted.warnings,
    });
  }

  @Get('stacks/:name')
  async get(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
  ) {
    allow(identity, 'read', tenantId);
    return this.stack(tenantId, name);
  }

  @Get('stacks/:name/revisions')
  async revisions(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
  ) {
    allow(identity, 'read', tenantId);
    const stack = await this.stack(tenantId, name);
    return { items: await this.stacks.listRevisions(tenantId, stack.id) };
  }

  /** One revision with its plan (the units and their manifests) and the template it came from. */
  @Get('stacks/:name/revisions/:revision')
  async revision(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
    @Param('revision', ParseIntPipe) revision: number,
  ) {
    allow(identity, 'read', tenantId);
    const stack = await this.stack(tenantId, name);
    return this.stacks.getRevision(tenantId, stack.id, revision);
  }

  @Get('stacks/:name/deployments')
  async deployments(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
  ) {
    allow(identity, 'read', tenantId);
    const stack = await this.stack(tenantId, name);
    return { items: await this.stacks.listDeployments(tenantId, stack.id) };
  }

  /** Runs an earlier, successfully deployed revision again, recorded as revision n+1 (R-OR-7). */
  @Post('stacks/:name/rollback')
  @HttpCode(202)
  async rollback(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'update', tenantId);
    const { revision } = parseOrThrow(RollbackSchema, body);
    const stack = await this.stack(tenantId, name);
    const accepted = await this.stacks.requestRollback(tenantId, stack.id, revision, {
      requestedBy: requester(identity),
    });
    this.submissions.wake();
    return this.accepted(response, accepted.deployment, {
      stack: accepted.stack,
      revision: accepted.revision,
    });
  }

  /** Removes the stack's units in reverse dependency order and withdraws its autoscaling policies. */
  @Delete('stacks/:name')
  @HttpCode(202)
  async remove(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('name') name: string,
    @Res({ passthrough: true }) response: Response,
  ) {
    allow(identity, 'delete', tenantId);
    const stack = await this.stack(tenantId, name);
    const accepted = await this.stacks.requestDelete(tenantId, stack.id, {
      requestedBy: requester(identity),
    });
    this.submissions.wake();
    return this.accepted(response, accepted.deployment, { stack: accepted.stack });
  }

  /** A deployment's state and per-unit progress (the status endpoint of issue #5 §4). */
  @Get('deployments/:deploymentId')
  async deployment(
    @CurrentIdentity() identity: VerifiedIdentity,
    @Param('tenantId') tenantId: string,
    @Param('deploymentId') deploymentId: string,
  ) {
    allow(identity, 'read', tenantId);
    return this.stacks.getDeployment(tenantId, deploymentId);
  }

  private async stack(tenantId: string, name: string): Promise<Stack> {
    const stack = await this.stacks.findStack(tenantId, name);
    if (!stack) throw stackNotFound('name', name);
    return stack;
  }

  private accepted(response: Response, deployment: Deployment, body: Record<string, unknown>) {
    response.location(`/api/v1/tenants/${deployment.tenantId}/deployments/${deployment.id}`);
    return { ...body, deployment };
  }
}
