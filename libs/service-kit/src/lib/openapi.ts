/**
 * The services' OpenAPI 3.1 documents (R-AU-1, issue #6 §7 aggregates them in the gateway): each
 * service lists its routes as data, request bodies rendered from the zod schemas that validate them,
 * and every error in the one JSON shape of the HTTP exception filter.
 */
import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { z } from 'zod';

export type OpenApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDoc {
  method: OpenApiMethod;
  path: string;
  summary: string;
  /** Who may call it (the permission table in docs/identity.md has the detail). */
  access: string;
  body?: z.ZodType;
  /** 200, 201, 202 (operation) or 204. */
  success: 200 | 201 | 202 | 204;
}

export interface OpenApiInfo {
  title: string;
  description: string;
  /** What a 202 gives the caller to follow (operation, deployment…). */
  accepted: string;
}

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

export function buildOpenApiDocument(
  info: OpenApiInfo,
  routes: readonly RouteDoc[],
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const success =
      route.success === 202
        ? { description: info.accepted }
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
    info: { title: info.title, version: '1', description: info.description },
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

/**
 * Every route the controllers serve, as `<method> /<path>` with `{param}` placeholders, sorted: a
 * service's test compares it with its documented ROUTES so the document cannot fall behind.
 */
export function controllerRoutes(controllers: ReadonlyArray<Type<unknown>>): string[] {
  const routes: string[] = [];
  for (const controller of controllers) {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      const full = `/${base}/${path}`.replace(/\/+$/, '').replace(/:(\w+)/g, '{$1}');
      routes.push(`${RequestMethod[method].toLowerCase()} ${full}`);
    }
  }
  return routes.sort();
}
