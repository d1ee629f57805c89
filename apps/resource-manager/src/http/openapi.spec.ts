import 'reflect-metadata';
import { controllerRoutes } from '@stratum/service-kit';
import { openApiDocument, ROUTES } from './openapi';
import { PlatformRecordsController } from './platform-records.controller';
import { TenantsController } from './tenants.controller';

describe('resource-manager OpenAPI document (issue #4 §8)', () => {
  it('documents exactly the routes the controllers serve', () => {
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      controllerRoutes([PlatformRecordsController, TenantsController]),
    );
  });

  it('renders request bodies from the validating schemas, with the fields a caller must send', () => {
    const document = openApiDocument() as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>
      >;
    };
    const networkBody =
      document.paths['/api/v1/networks'].post.requestBody!.content['application/json'].schema;
    expect(networkBody.required).toEqual(
      expect.arrayContaining(['name', 'cidr', 'gateway', 'securityDomain', 'isolationDomain', 'clusterId']),
    );
    const volumeBody =
      document.paths['/api/v1/tenants/{tenantId}/volumes'].post.requestBody!.content['application/json']
        .schema;
    expect(volumeBody.required?.sort()).toEqual(['name', 'nfsServerId', 'sizeBytes']);
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });
});
