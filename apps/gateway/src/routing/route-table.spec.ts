import { AUTHZ_RESOURCES } from '@stratum/authz';
import { RouteMatcher, ROUTE_FAMILIES, ROUTES } from './route-table';

describe('route table (issue #6 §3)', () => {
  const matcher = new RouteMatcher(ROUTES);

  it('matches every route of the table by its own path, with its parameters', () => {
    for (const route of ROUTES) {
      const path = route.path.replace(/[:*](\w+)/g, (_, name: string) => `v-${name}`);
      const match = matcher.match(route.method, path);
      expect(match).not.toBe('method');
      expect(match).toBeDefined();
      if (match === undefined || match === 'method') continue;
      expect(match.route).toBe(route);
      for (const name of [...route.path.matchAll(/[:*](\w+)/g)].map((m) => m[1]!)) {
        expect(match.params[name]).toBe(`v-${name}`);
      }
    }
  });

  it('prefers literal segments over parameters', () => {
    const match = matcher.match('GET', '/api/v1/tenants/t1/stacks/web/revisions');
    expect(match).toMatchObject({
      route: { resource: 'stack', action: 'read' },
      params: { tenantId: 't1', name: 'web' },
    });
    const platform = matcher.match('GET', '/api/v1/networks');
    expect(platform).toMatchObject({ route: { tenant: 'platform', resource: 'network' } });
  });

  it('tells an unknown path from a known path with another method', () => {
    expect(matcher.match('GET', '/api/v1/nothing-here')).toBeUndefined();
    expect(matcher.match('GET', '/api/v1/tenants/t1/volumes/v1/extra')).toBeUndefined();
    expect(matcher.match('POST', '/api/v1/tenants/t1/environments')).toBe('method');
  });

  it('takes the rest of the path for a *parameter (repository names have slashes)', () => {
    const match = matcher.match('GET', '/api/v1/tenants/t1/images/retail/web/api');
    expect(match).toMatchObject({
      params: { tenantId: 't1', repository: 'retail/web/api' },
      route: { resource: 'image' },
    });
  });

  it('decodes parameters and refuses encoded separators and dot segments', () => {
    expect(matcher.match('GET', '/api/v1/tenants/t%201/volumes')).toMatchObject({
      params: { tenantId: 't 1' },
    });
    expect(matcher.match('GET', '/api/v1/tenants/a%2Fb/volumes')).toBeUndefined();
    expect(matcher.match('GET', '/api/v1/tenants/../volumes')).toBeUndefined();
    expect(matcher.match('GET', '/api/v1/tenants/%E0%A4%A/volumes')).toBeUndefined();
  });

  it('treats HEAD as GET', () => {
    expect(matcher.match('HEAD', '/api/v1/tenants/t1/volumes')).toMatchObject({ route: { method: 'GET' } });
  });

  it('rejects a table with a duplicate route or clashing parameter names', () => {
    const route = ROUTES[0]!;
    expect(() => new RouteMatcher([route, route])).toThrow(/duplicate route/);
    expect(
      () =>
        new RouteMatcher([
          { ...route, path: '/api/v1/x/:a' },
          { ...route, method: 'DELETE', path: '/api/v1/x/:b' },
        ]),
    ).toThrow(/clashes/);
  });

  it('covers every resource of the permission table that has an API, and every route is under /api/v1', () => {
    const routed = new Set(ROUTES.map((r) => r.resource));
    // Registry pushes and pulls go through the registry token service, not through a proxied route.
    const notRouted = AUTHZ_RESOURCES.filter((r) => !routed.has(r));
    expect(notRouted.sort()).toEqual(['production-image']);
    for (const route of ROUTES) expect(route.path.startsWith('/api/v1/')).toBe(true);
    expect(new Set(ROUTE_FAMILIES.map((f) => f.name)).size).toBe(ROUTE_FAMILIES.length);
  });
});
