import 'reflect-metadata';
import { controllerRoutes } from '@stratum/service-kit';
import { openApiDocument, ROUTES } from './openapi';
import { StacksController } from './stacks.controller';

describe('orchestrator OpenAPI document (issue #5 §4)', () => {
  it('documents exactly the routes the controller serves', () => {
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(controllerRoutes([StacksController]));
  });

  it('renders the template body from its validating schema', () => {
    const document = openApiDocument() as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const body = document.paths['/api/v1/tenants/{tenantId}/stacks/{name}'].put.requestBody!.content[
      'application/json'
    ].schema as { properties: Record<string, unknown> };
    expect(Object.keys(body.properties).sort()).toEqual(['csar', 'files', 'inputs', 'template']);
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });
});
