import type { KubeObject } from '@stratum/kube';
import { environmentManifests, type EnvironmentManifestInput } from './environment-manifests';
import { linkPolicy } from './link-manifests';
import {
  cidrContains,
  ingressAllowed,
  labelSelectorMatches,
  type IngressSource,
} from './network-policy-eval';

const environment = (tenantId: string, tenantName: string, networkName: string, cidr: string) => {
  const input: EnvironmentManifestInput = {
    tenant: {
      id: tenantId,
      name: tenantName,
      developerGroups: [],
      viewerGroups: [],
      quota: { cpu: '8', memory: '16Gi', pods: 50 },
      containerDefaults: {
        cpuRequest: '100m',
        memoryRequest: '128Mi',
        cpuLimit: '500m',
        memoryLimit: '512Mi',
      },
    },
    network: {
      id: `N-${networkName}`,
      name: networkName,
      cidr,
      gateway: cidr.replace(/0\/\d+$/, '1'),
      securityDomain: 'internal',
      isolationDomain: 'core',
    },
    members: [],
    registry: { server: 'registry.bank.test', username: 'pull', password: 'secret' },
  };
  const objects = environmentManifests(input);
  const namespace = objects[0];
  return {
    namespace: namespace.metadata!.name!,
    namespaceLabels: namespace.metadata!.labels!,
    policies: objects.filter((o) => o.kind === 'NetworkPolicy'),
  };
};

const dmz = environment('T-0001', 'Retail Banking', 'dmz', '192.168.10.0/24');
const core = environment('T-0001', 'Retail Banking', 'core', '192.168.20.0/24');
const otherTenant = environment('T-0002', 'Cards', 'core', '192.168.30.0/24');

const podIn = (
  env: typeof dmz,
  podLabels: Record<string, string> = { app: 'web' },
  ip?: string,
): IngressSource => ({
  namespace: env.namespace,
  namespaceLabels: env.namespaceLabels,
  podLabels,
  ...(ip ? { ip } : {}),
});

const policy = (name: string, spec: Record<string, unknown>, namespace = 'ns'): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

const target = { namespace: 'ns', podLabels: { app: 'api', tier: 'backend' } };
const sameNamespace = (podLabels: Record<string, string> = { app: 'web' }): IngressSource => ({
  namespace: 'ns',
  namespaceLabels: { team: 'a' },
  podLabels,
});

describe('NetworkPolicy ingress evaluation', () => {
  describe('the policies of an environment (R-NW-1, R-NW-4)', () => {
    const defaultDeny = () => dmz.policies.filter((p) => p.metadata?.name === 'default-deny-ingress');
    const ledger = { namespace: dmz.namespace, podLabels: { app: 'ledger' } };

    it('denies everything under default-deny alone, even from the same namespace', () => {
      expect(ingressAllowed(defaultDeny(), ledger, podIn(dmz))).toEqual({ allowed: false });
      expect(ingressAllowed(defaultDeny(), ledger, { ip: '8.8.8.8' })).toEqual({ allowed: false });
    });

    it('lets in pods of the same environment', () => {
      expect(ingressAllowed(dmz.policies, ledger, podIn(dmz))).toEqual({
        allowed: true,
        by: 'allow-tenant-environments',
      });
    });

    it('lets in pods of the same tenant’s other environments', () => {
      expect(ingressAllowed(dmz.policies, ledger, podIn(core))).toEqual({
        allowed: true,
        by: 'allow-tenant-environments',
      });
    });

    it('denies pods of another tenant', () => {
      expect(ingressAllowed(dmz.policies, ledger, podIn(otherTenant))).toEqual({ allowed: false });
      expect(ingressAllowed(dmz.policies, ledger, podIn(otherTenant, {}, '192.168.30.5'))).toEqual({
        allowed: false,
      });
    });

    it('denies a host outside the cluster', () => {
      expect(ingressAllowed(dmz.policies, ledger, { ip: '192.168.20.7' })).toEqual({ allowed: false });
    });

    it('lets in the linked networks’ flat subnets by IP, and nothing else', () => {
      const policies = [
        ...dmz.policies,
        linkPolicy({ namespace: dmz.namespace, linkedNetworks: [{ name: 'core', cidr: '192.168.20.0/24' }] }),
      ];
      expect(ingressAllowed(policies, ledger, { ip: '192.168.20.7' })).toEqual({
        allowed: true,
        by: 'allow-linked-networks',
      });
      expect(ingressAllowed(policies, ledger, { ip: '192.168.30.7' })).toEqual({ allowed: false });
      expect(ingressAllowed(policies, ledger, podIn(otherTenant, {}, '192.168.30.7'))).toEqual({
        allowed: false,
      });
    });

    it('adds nothing with an empty link policy', () => {
      const policies = [...defaultDeny(), linkPolicy({ namespace: dmz.namespace, linkedNetworks: [] })];
      expect(ingressAllowed(policies, ledger, { ip: '192.168.20.7' })).toEqual({ allowed: false });
      expect(ingressAllowed(policies, ledger, podIn(dmz))).toEqual({ allowed: false });
    });

    it('ignores policies of other namespaces and objects that are no NetworkPolicy', () => {
      expect(ingressAllowed(core.policies, ledger, podIn(otherTenant))).toEqual({ allowed: true });
      const notAPolicy = { ...defaultDeny()[0], kind: 'ConfigMap' };
      expect(ingressAllowed([notAPolicy], ledger, podIn(otherTenant))).toEqual({ allowed: true });
    });
  });

  describe('isolation', () => {
    it('allows everything when no policy exists', () => {
      expect(ingressAllowed([], target, { ip: '1.2.3.4' })).toEqual({ allowed: true });
    });

    it('allows everything when no policy selects the pod', () => {
      const other = policy('other', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
      });
      expect(ingressAllowed([other], target, sameNamespace())).toEqual({ allowed: true });
    });

    it('does not isolate for ingress with an egress-only policy', () => {
      const egress = policy('egress', { podSelector: {}, policyTypes: ['Egress'], egress: [] });
      expect(ingressAllowed([egress], target, sameNamespace())).toEqual({ allowed: true });
    });

    it('isolates with a policy that states no policyTypes (the API server defaults to Ingress)', () => {
      expect(ingressAllowed([policy('bare', { podSelector: {} })], target, sameNamespace())).toEqual({
        allowed: false,
      });
      const withRule = policy('with-rule', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] });
      expect(ingressAllowed([withRule], target, sameNamespace())).toEqual({ allowed: true, by: 'with-rule' });
    });

    it('lets in every source with a rule whose from is empty or absent', () => {
      for (const rule of [{}, { from: [] }]) {
        const open = policy('open', { podSelector: {}, policyTypes: ['Ingress'], ingress: [rule] });
        expect(ingressAllowed([open], target, { ip: '203.0.113.9' })).toEqual({ allowed: true, by: 'open' });
      }
    });

    it('names the first policy, in the order given, that lets the flow in', () => {
      const a = policy('a', { podSelector: {}, ingress: [{}] });
      const b = policy('b', { podSelector: {}, ingress: [{}] });
      expect(ingressAllowed([b, a], target, sameNamespace()).by).toBe('b');
    });
  });

  describe('peers', () => {
    const allowFrom = (...from: unknown[]) => [
      policy('allow', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from }] }),
    ];
    const elsewhere = (
      podLabels: Record<string, string>,
      namespaceLabels: Record<string, string>,
    ): IngressSource => ({
      namespace: 'elsewhere',
      namespaceLabels,
      podLabels,
    });

    it('podSelector alone: matching pods of the policy’s own namespace only', () => {
      const policies = allowFrom({ podSelector: { matchLabels: { app: 'web' } } });
      expect(ingressAllowed(policies, target, sameNamespace({ app: 'web' })).allowed).toBe(true);
      expect(ingressAllowed(policies, target, sameNamespace({ app: 'batch' })).allowed).toBe(false);
      expect(ingressAllowed(policies, target, elsewhere({ app: 'web' }, { team: 'a' })).allowed).toBe(false);
    });

    it('namespaceSelector alone: every pod of matching namespaces', () => {
      const policies = allowFrom({ namespaceSelector: { matchLabels: { team: 'a' } } });
      expect(ingressAllowed(policies, target, elsewhere({ anything: 'x' }, { team: 'a' })).allowed).toBe(
        true,
      );
      expect(ingressAllowed(policies, target, elsewhere({}, { team: 'b' })).allowed).toBe(false);
      expect(ingressAllowed(allowFrom({ namespaceSelector: {} }), target, elsewhere({}, {})).allowed).toBe(
        true,
      );
    });

    it('both: matching pods in matching namespaces', () => {
      const policies = allowFrom({
        namespaceSelector: { matchLabels: { team: 'a' } },
        podSelector: { matchLabels: { app: 'web' } },
      });
      expect(ingressAllowed(policies, target, elsewhere({ app: 'web' }, { team: 'a' })).allowed).toBe(true);
      expect(ingressAllowed(policies, target, elsewhere({ app: 'db' }, { team: 'a' })).allowed).toBe(false);
      expect(ingressAllowed(policies, target, elsewhere({ app: 'web' }, { team: 'b' })).allowed).toBe(false);
    });

    it('pod and namespace peers never match a host outside the cluster', () => {
      const policies = allowFrom({ namespaceSelector: {} }, { podSelector: {} });
      expect(ingressAllowed(policies, target, { ip: '10.0.0.1' }).allowed).toBe(false);
    });

    it('ipBlock: inside the CIDR and outside every except', () => {
      const policies = allowFrom({
        ipBlock: { cidr: '192.168.20.0/24', except: ['192.168.20.128/25', '192.168.20.7/32'] },
      });
      expect(ingressAllowed(policies, target, { ip: '192.168.20.5' })).toEqual({
        allowed: true,
        by: 'allow',
      });
      expect(ingressAllowed(policies, target, { ip: '192.168.20.7' }).allowed).toBe(false);
      expect(ingressAllowed(policies, target, { ip: '192.168.20.200' }).allowed).toBe(false);
      expect(ingressAllowed(policies, target, { ip: '192.168.21.5' }).allowed).toBe(false);
      expect(ingressAllowed(policies, target, sameNamespace()).allowed).toBe(false);
    });

    it('ipBlock: IPv6', () => {
      const policies = allowFrom({ ipBlock: { cidr: 'fd00:20::/64', except: ['fd00:20::bad/128'] } });
      expect(ingressAllowed(policies, target, { ip: 'fd00:20::1' }).allowed).toBe(true);
      expect(ingressAllowed(policies, target, { ip: 'fd00:20::bad' }).allowed).toBe(false);
      expect(ingressAllowed(policies, target, { ip: 'fd00:21::1' }).allowed).toBe(false);
      expect(ingressAllowed(policies, target, { ip: '192.168.20.1' }).allowed).toBe(false);
    });

    it('a peer with nothing in it matches nothing', () => {
      expect(ingressAllowed(allowFrom({}), target, sameNamespace()).allowed).toBe(false);
    });

    it('rules and peers are alternatives: any one matching lets the flow in', () => {
      const policies = [
        policy('two-rules', {
          podSelector: { matchLabels: { app: 'api' } },
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ podSelector: { matchLabels: { app: 'never' } } }] },
            { from: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { podSelector: { matchLabels: { app: 'web' } } }] },
          ],
        }),
      ];
      expect(ingressAllowed(policies, target, sameNamespace({ app: 'web' }))).toEqual({
        allowed: true,
        by: 'two-rules',
      });
      expect(ingressAllowed(policies, target, { ip: '10.1.2.3' }).allowed).toBe(true);
    });
  });

  describe('label selectors', () => {
    const labels = { app: 'api', tier: 'backend' };

    it('matches everything with an empty selector', () => {
      expect(labelSelectorMatches({}, {})).toBe(true);
      expect(labelSelectorMatches({}, labels)).toBe(true);
    });

    it('ANDs matchLabels and matchExpressions', () => {
      expect(labelSelectorMatches({ matchLabels: { app: 'api' } }, labels)).toBe(true);
      expect(labelSelectorMatches({ matchLabels: { app: 'api', tier: 'frontend' } }, labels)).toBe(false);
      expect(
        labelSelectorMatches(
          {
            matchLabels: { app: 'api' },
            matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }],
          },
          labels,
        ),
      ).toBe(false);
    });

    it.each([
      [{ key: 'tier', operator: 'In', values: ['backend', 'frontend'] }, true],
      [{ key: 'tier', operator: 'In', values: ['frontend'] }, false],
      [{ key: 'zone', operator: 'In', values: ['a'] }, false],
      [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }, true],
      [{ key: 'tier', operator: 'NotIn', values: ['backend'] }, false],
      [{ key: 'zone', operator: 'NotIn', values: ['a'] }, true],
      [{ key: 'tier', operator: 'Exists' }, true],
      [{ key: 'zone', operator: 'Exists' }, false],
      [{ key: 'zone', operator: 'DoesNotExist' }, true],
      [{ key: 'tier', operator: 'DoesNotExist' }, false],
      [{ key: 'tier', operator: 'Gt', values: ['1'] }, false],
    ])('%j → %s', (requirement, expected) => {
      expect(labelSelectorMatches({ matchExpressions: [requirement] }, labels)).toBe(expected);
    });

    it('selects target pods and source namespaces with matchExpressions', () => {
      const policies = [
        policy('backend-from-prod', {
          podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: {
                    matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }],
                  },
                },
              ],
            },
          ],
        }),
      ];
      const from = (env?: string): IngressSource => ({
        namespace: 'x',
        namespaceLabels: env ? { env } : {},
        podLabels: {},
      });
      expect(ingressAllowed(policies, target, from('prod')).allowed).toBe(true);
      expect(ingressAllowed(policies, target, from()).allowed).toBe(true);
      expect(ingressAllowed(policies, target, from('dev')).allowed).toBe(false);
      // A frontend pod is not selected, so not isolated.
      expect(
        ingressAllowed(policies, { namespace: 'ns', podLabels: { tier: 'frontend' } }, from('dev')),
      ).toEqual({
        allowed: true,
      });
    });
  });

  describe('cidrContains', () => {
    it.each([
      ['192.168.20.0/24', '192.168.20.255', true],
      ['192.168.20.0/24', '192.168.21.0', false],
      ['192.168.20.7/32', '192.168.20.7', true],
      ['0.0.0.0/0', '8.8.8.8', true],
      ['10.1.2.3/8', '10.200.0.1', true],
      ['fd00::/8', 'fdff:1::1', true],
      ['fd00::/8', 'fe80::1', false],
      ['::/0', '2001:db8::1', true],
      ['192.168.0.0/16', 'fd00::1', false],
      ['192.168.0.0/33', '192.168.0.1', false],
      ['192.168.0.0', '192.168.0.1', false],
      ['192.168.0.0/24/1', '192.168.0.1', false],
      ['not-a-cidr/24', '192.168.0.1', false],
      ['192.168.0.0/24', 'not-an-ip', false],
    ])('%s contains %s: %s', (cidr, ip, expected) => {
      expect(cidrContains(cidr, ip)).toBe(expected);
    });
  });
});
