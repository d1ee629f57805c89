import {
  KUBERNETES_RESOURCES,
  kubernetesRoleName,
  kubernetesRoleRules,
  NEVER_MIRRORED,
  type PolicyRule,
  renderKubernetesRbacTable,
  TENANT_PLATFORM_ROLES,
  type TenantPlatformRole,
} from './kubernetes-rbac';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTHZ_RESOURCES } from './permissions';

/** The verbs a role's rules give on one resource of one API group. */
function verbsOn(rules: PolicyRule[], apiGroup: string, resource: string): string[] {
  return [
    ...new Set(
      rules
        .filter((rule) => rule.apiGroups.includes(apiGroup) && rule.resources.includes(resource))
        .flatMap((rule) => rule.verbs),
    ),
  ];
}

const READ = ['get', 'list', 'watch'];
const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

describe('Kubernetes RBAC mirrored from the permission table (R-AU-6)', () => {
  it('mirrors the four tenant roles as stratum-<role>, never platform-admin', () => {
    expect(TENANT_PLATFORM_ROLES).toEqual([
      'tenant-admin',
      'advanced-member',
      'restricted-member',
      'read-only',
    ]);
    expect(TENANT_PLATFORM_ROLES.map(kubernetesRoleName)).toEqual([
      'stratum-tenant-admin',
      'stratum-advanced-member',
      'stratum-restricted-member',
      'stratum-read-only',
    ]);
    expect(() => kubernetesRoleRules('platform-admin' as TenantPlatformRole)).toThrow(/not a tenant role/);
  });

  it('decides a Kubernetes counterpart (possibly none) for every platform resource', () => {
    const undecided = AUTHZ_RESOURCES.filter((resource) => !(resource in KUBERNETES_RESOURCES));
    expect(undecided).toEqual([]);
  });

  it('gives read-only get, list and watch only', () => {
    const rules = kubernetesRoleRules('read-only');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.verbs).toEqual(READ);
    expect(verbsOn(rules, 'apps', 'deployments')).toEqual(READ);
    expect(verbsOn(rules, '', 'pods/log')).toEqual(READ);
  });

  it('lets a restricted member run stacks and volumes but only read the network attachment and the environment settings', () => {
    const rules = kubernetesRoleRules('restricted-member');
    expect(verbsOn(rules, 'apps', 'deployments')).toEqual(ALL);
    expect(verbsOn(rules, '', 'pods')).toEqual(ALL);
    expect(verbsOn(rules, '', 'persistentvolumeclaims')).toEqual(ALL);
    expect(verbsOn(rules, 'k8s.cni.cncf.io', 'network-attachment-definitions')).toEqual(READ);
    expect(verbsOn(rules, '', 'resourcequotas')).toEqual(READ);
    expect(verbsOn(rules, 'networking.k8s.io', 'networkpolicies')).toEqual(READ);
    // Events and logs are observed, not written, whatever the role may do to the stack.
    expect(verbsOn(rules, '', 'events')).toEqual(READ);
    expect(verbsOn(rules, '', 'pods/log')).toEqual(READ);
    // Endpoints are the endpoints controller's and the link mirrors' (R-NW-4).
    expect(verbsOn(rules, '', 'endpoints')).toEqual(READ);
  });

  it('gives the tenant admin what the advanced member has and nothing RBAC-related: roles are granted in Keystone (R-AU-2)', () => {
    const admin = kubernetesRoleRules('tenant-admin');
    expect(admin).toEqual(kubernetesRoleRules('advanced-member'));
    // R-AU-3: a restricted member has the advanced member's platform rights.
    expect(kubernetesRoleRules('restricted-member')).toEqual(kubernetesRoleRules('advanced-member'));
    expect(admin.some((rule) => rule.apiGroups.includes('rbac.authorization.k8s.io'))).toBe(false);
  });

  it('never grants secrets, RBAC objects or a way into containers to any role', () => {
    for (const role of TENANT_PLATFORM_ROLES) {
      const rules = kubernetesRoleRules(role);
      for (const { apiGroup, resource } of NEVER_MIRRORED) {
        expect(`${role}: ${apiGroup}/${resource} ${verbsOn(rules, apiGroup, resource).join(',')}`).toBe(
          `${role}: ${apiGroup}/${resource} `,
        );
      }
      for (const rule of rules) {
        expect(rule.apiGroups).not.toContain('*');
        expect(rule.resources).not.toContain('*');
        expect(rule.verbs).not.toEqual(expect.arrayContaining(['escalate', 'bind', 'impersonate']));
      }
    }
  });

  it('is deterministic: sorted rules, one per API group and verb set, each resource once', () => {
    for (const role of TENANT_PLATFORM_ROLES) {
      const rules = kubernetesRoleRules(role);
      expect(kubernetesRoleRules(role)).toEqual(rules);
      const keys = rules.map((rule) => `${rule.apiGroups.join()}\u0000${rule.resources[0]}`);
      expect([...keys].sort()).toEqual(keys);
      const seen = rules.flatMap((rule) =>
        rule.resources.map((resource) => `${rule.apiGroups[0]}/${resource}`),
      );
      expect(new Set(seen).size).toBe(seen.length);
      for (const rule of rules) {
        expect(rule.apiGroups).toHaveLength(1);
        expect([...rule.resources].sort()).toEqual(rule.resources);
      }
    }
    const readOnly = kubernetesRoleRules('read-only');
    expect(
      readOnly.filter((rule) => ['', 'k8s.cni.cncf.io', 'networking.k8s.io'].includes(rule.apiGroups[0]!)),
    ).toEqual([
      {
        apiGroups: [''],
        resources: [
          'configmaps',
          'endpoints',
          'events',
          'limitranges',
          'persistentvolumeclaims',
          'pods',
          'pods/log',
          'resourcequotas',
          'services',
        ],
        verbs: READ,
      },
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: READ },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: READ },
    ]);
    expect(readOnly.find((rule) => rule.apiGroups[0] === 'apps')?.resources).toEqual(
      expect.arrayContaining(['deployments', 'replicasets', 'statefulsets']),
    );
  });

  it('renders the table for the docs, one row per Kubernetes resource', () => {
    const table = renderKubernetesRbacTable();
    expect(table.split('\n')[0]).toMatch(/^\| resource \(API group\) +\| `stratum-tenant-admin` /);
    expect(table).toMatch(
      /\| `network-attachment-definitions` \(k8s\.cni\.cncf\.io\) +\| get, list, watch +\|/,
    );
    expect(table).not.toContain('secrets');
  });

  it('is the table docs/resources.md shows', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/resources.md'), 'utf8');
    expect(doc).toContain(renderKubernetesRbacTable());
  });
});
