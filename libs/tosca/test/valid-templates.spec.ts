import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { evaluate, fileSystemSource, FunctionCall, memorySource, processTemplate, writeZip } from '../src';

const valid = path.join(__dirname, 'valid');
const golden = path.join(__dirname, 'golden');

function filesUnder(root: string, prefix = ''): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const entry of readdirSync(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, filesUnder(root, rel));
    else out[rel] = readFileSync(path.join(root, rel));
  }
  return out;
}

describe('valid TOSCA templates', () => {
  it('resolves imports with namespace_prefix, short names, import cycles and functions', async () => {
    const result = await processTemplate('namespaced/main.yaml', fileSystemSource(valid));
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    const t = result.template!;
    expect(t.nodeTemplates.server.typeChain).toEqual([
      'tosca.nodes.Compute',
      'tosca.nodes.Abstract.Compute',
      'tosca.nodes.Root',
    ]);
    expect(t.nodeTemplates.proxy.type).toBe('Proxy');
    expect(t.nodeTemplates.proxy.requirements).toEqual([
      expect.objectContaining({ name: 'host', target: 'server', targetCapability: 'host' }),
      expect.objectContaining({
        name: 'backend',
        target: 'app',
        targetCapability: 'api',
        relationship: expect.objectContaining({
          type: 'Routes',
          typeChain: [
            'Routes',
            'tosca.relationships.RoutesTo',
            'tosca.relationships.ConnectsTo',
            'tosca.relationships.Root',
          ],
        }),
      }),
    ]);
    expect(t.nodeTemplates.app.properties.replicas).toBe(3);
    expect(t.nodeTemplates.app.capabilities.api.properties.port).toBe(8080);
    expect(t.nodeTemplates.server.capabilities.host.properties.num_cpus).toEqual(
      new FunctionCall('get_input', ['cpus']),
    );
    const url = evaluate(t.outputs.proxy_url.value, { template: t, inputs: { domain: 'stratum.local' } });
    expect(url).toBe('https://app.stratum.local:8443');
    expect(evaluate(t.nodeTemplates.proxy.properties.upstream, { template: t, self: 'proxy' })).toBe(
      'http://app.example.org:8080',
    );
    expect(t.types.isDerivedFrom('node', 'Proxy', 'SoftwareComponent')).toBe(true);
  });

  it('processes the web application stack (groups, policies, node filter, substitution)', async () => {
    const result = await processTemplate('webapp.yaml', fileSystemSource(valid), {
      inputs: { db_password: 's3cret' },
    });
    expect(result.diagnostics).toEqual([]);
    const t = result.template!;
    expect(t.groups.servers.members).toEqual(['server', 'store']);
    expect(t.policies.map((p) => [p.name, p.type, p.targets])).toEqual([
      ['placement', 'tosca.policies.Placement', ['servers']],
      ['scale_app', 'tosca.policies.Scaling', ['app']],
    ]);
    expect(t.substitutionMappings).toEqual({
      nodeType: 'tosca.nodes.WebApplication',
      properties: { context_root: { input: 'context' } },
      capabilities: { app_endpoint: { nodeTemplate: 'app', capability: 'app_endpoint' } },
      requirements: { host: { nodeTemplate: 'web', requirement: 'host' } },
    });
    expect(t.inputs.db_password.value).toBe('s3cret');
    expect(evaluate(t.nodeTemplates.db.properties.password, { template: t, self: 'db' })).toBe('s3cret');
    expect(evaluate(t.nodeTemplates.db.properties.port, { template: t, self: 'db' })).toBe(3306);
    expect(evaluate(t.outputs.db_host.value, { template: t })).toBe('db.internal');
    const url = evaluate(t.outputs.url.value, { template: t, getAttribute: () => '203.0.113.7' });
    expect(url).toBe('http://203.0.113.7/blog');
    expect(t.nodeTemplates.store.requirements[0].relationship.properties).toEqual({ location: '/data' });
  });

  it('validates supplied inputs at deploy time', async () => {
    const result = await processTemplate('webapp.yaml', fileSystemSource(valid), {
      inputs: { db_port: 'x', extra: 1 },
    });
    expect(result.diagnostics.map((d) => d.code).sort()).toEqual([
      'TOSCA_MISSING_INPUT',
      'TOSCA_TYPE_MISMATCH',
      'TOSCA_UNKNOWN_INPUT',
    ]);
  });

  it.each([true, false])('reads a CSAR built from files (deflate: %s)', async (deflate) => {
    const csar = writeZip(filesUnder(path.join(valid, 'csar')), deflate);
    const result = await processTemplate('app.csar', memorySource({ 'app.csar': csar }));
    expect(result.diagnostics).toEqual([]);
    expect(result.template?.file).toBe('app.csar!/Definitions/app.yaml');
    expect(result.template?.nodeTemplates.api.typeChain).toEqual([
      'csar.Api',
      'tosca.nodes.Container.Application',
      'tosca.nodes.Root',
    ]);
  });

  it('reads a CSAR without TOSCA.meta (single root YAML) and imports a CSAR', async () => {
    const files = filesUnder(path.join(valid, 'csar', 'Definitions'));
    const csar = writeZip(files);
    const noMeta = await processTemplate(
      'x.csar',
      memorySource({ 'x.csar': writeZip({ 'types.yaml': files['types.yaml'] }) }),
    );
    expect(noMeta.ok).toBe(true);
    const ambiguous = await processTemplate('y.csar', memorySource({ 'y.csar': csar }));
    expect(ambiguous.diagnostics.map((d) => d.code)).toEqual(['TOSCA_CSAR']);
    const importing = await processTemplate(
      'main.yaml',
      memorySource({
        'main.yaml':
          'tosca_definitions_version: tosca_simple_yaml_1_3\nimports: [lib/types.csar]\ntopology_template:\n  node_templates:\n    a: { type: csar.Api, properties: { image: x } }\n',
        'lib/types.csar': writeZip({ 'types.yaml': files['types.yaml'] }),
      }),
    );
    // the imported type resolves; the template only misses the host requirement
    expect(importing.diagnostics.map((d) => d.code)).toEqual(['TOSCA_OCCURRENCES']);
  });

  it.each(readdirSync(golden).filter((f) => f.endsWith('.yaml') && !f.endsWith('.expected.yaml')))(
    'golden %s is valid with the Stratum profile',
    async (file) => {
      const result = await processTemplate(file, fileSystemSource(golden), {
        profiles: ['stratum-profile-1.0.yaml'],
      });
      expect(result.diagnostics).toEqual([]);
    },
  );

  it('reports a missing entry file', async () => {
    const result = await processTemplate('nope.yaml', memorySource({}));
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ code: 'TOSCA_IMPORT_NOT_FOUND', file: 'nope.yaml', line: 1, column: 1 }),
    ]);
  });
});
