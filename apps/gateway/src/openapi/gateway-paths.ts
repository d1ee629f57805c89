const error = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });

/** The gateway's own operations, documented by hand (they are few and fixed). */
export function gatewayOpenApiPaths(): Record<string, Record<string, unknown>> {
  return {
    '/api/v1/auth/tokens': {
      post: {
        tags: ['gateway'],
        summary: 'Log in: username and password → a Keystone token (also in X-Subject-Token)',
        security: [],
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['username', 'password'],
            additionalProperties: false,
            properties: {
              username: { type: 'string' },
              password: { type: 'string' },
              project: {
                type: 'string',
                description: 'Tenant (Keystone project) name to scope the token to',
              },
            },
          }),
        },
        responses: {
          '201': { description: 'The token, its expiry, the user, tenant and platform roles' },
          '400': { description: 'Invalid body', ...json(error) },
          '401': { description: 'Wrong credentials, or no role on that project', ...json(error) },
          '503': { description: 'Keystone is not answering', ...json(error) },
        },
      },
    },
    '/api/v1/auth/registry-token': {
      get: {
        tags: ['gateway'],
        summary: 'Docker Registry token service for the test and production registries (R-AU-5)',
        description:
          'Basic authentication with the Keystone username and password (or a Keystone token as the password). Grants the requested scopes the permission table allows.',
        security: [{ basic: [] }],
        parameters: [
          { name: 'service', in: 'query', required: true, schema: { type: 'string' } },
          {
            name: 'scope',
            in: 'query',
            required: false,
            schema: { type: 'string' },
            description: 'repository:<name>:pull,push (repeatable)',
          },
        ],
        responses: {
          '200': { description: '{ token, access_token, expires_in, issued_at }' },
          '401': { description: 'No or wrong credentials', ...json(error) },
        },
      },
    },
    '/api/v1/tenants/{tenantId}/members': {
      get: {
        tags: ['gateway'],
        summary: "The tenant's members and their platform roles, from Keystone (read-only, R-AU-2)",
        parameters: [{ name: 'tenantId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: '{ items: [{ userId, userName, roles }] }' },
          '401': { description: 'No or invalid token', ...json(error) },
          '403': { description: 'Not a tenant admin of this tenant', ...json(error) },
        },
      },
    },
  };
}
