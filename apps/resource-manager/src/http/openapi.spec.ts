import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { openApiDocument, ROUTES } from './openapi';
import { PlatformRecordsController } from './platform-records.controller';
import { TenantsController } from './tenants.controller';

/** Every route the controllers serve, as `<method> /api/v1/...` with `{param}` placeholders. */
function servedRoutes(): string[] {
  const routes: string[] = [];
  for (const controller of [PlatformRecordsController, TenantsController]) {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      const full = `/${base}/${path}`.replace(/:(\w+)/g, '{$1}');
      routes.push(`${RequestMethod[method].toLowerCase()} ${full}`);
    }
  }
  return routes.sort();
}

describe('resource-manager OpenAPI document (issue #4 §8)', () => {
  it('documents exactly the routes the controllers serve', () => {
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(servedRoutes());
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
