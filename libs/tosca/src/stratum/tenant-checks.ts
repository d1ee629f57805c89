// Rule 10 of the Stratum profile (R-OR-3): the template against the tenant's resources as the
// orchestrator knows them — networks (environments), volumes, security domains, subnets.
import { compareDiagnostics, type Diagnostic } from '../lib/diagnostics';
import { locatorOf } from '../lib/locator';
import type { ServiceTemplate } from '../lib/model';
import { formatIp, parseIp, parseSubnet, usableIn } from './ip';
import { Findings, propertyPath, readStack, records, str } from './stack';
import type { StratumTenantView } from './translate';

const list = (names: string[]) => (names.length ? names.join(', ') : 'none');

export function checkTenantResources(template: ServiceTemplate, view: StratumTenantView): Diagnostic[] {
  const findings = new Findings(locatorOf(template));
  const stack = readStack(template);
  const networks = [...view.environments].map((e) => e.networkName).sort();
  const volumes = new Set(view.volumes.map((v) => v.name));
  for (const ms of stack.microservices) {
    const network = str(ms.props.network);
    const environment = view.environments.find((e) => e.networkName === network);
    if (network !== undefined && !environment) {
      findings.error(
        'STRATUM_UNKNOWN_NETWORK',
        propertyPath(ms.name, 'network'),
        `network ${network} of ${ms.name} is not a network of tenant ${view.tenantId} (its networks: ${list(networks)}): assign network ${network} to the tenant first (resource-manager), or place ${ms.name} in one of its networks`,
      );
    }
    const level = str(ms.props.security_level);
    if (environment && level !== undefined && level !== environment.securityDomain) {
      const matching = view.environments
        .filter((e) => e.securityDomain === level)
        .map((e) => e.networkName)
        .sort();
      findings.error(
        'STRATUM_SECURITY_LEVEL',
        propertyPath(ms.name, 'security_level'),
        `${ms.name} has security_level ${level}, but network ${network} is in security domain ${environment.securityDomain}: place ${ms.name} in a network of domain ${level} (the tenant's: ${list(matching)}) or correct security_level`,
      );
    }
    for (const { index, item } of records(ms.props.volumes)) {
      const volume = str(item.volume);
      if (volume === undefined || volumes.has(volume)) continue;
      findings.error(
        'STRATUM_UNKNOWN_VOLUME',
        propertyPath(ms.name, 'volumes', index, 'volume'),
        `volume ${volume} mounted by ${ms.name} is not a volume of tenant ${view.tenantId} (its volumes: ${list([...volumes].sort())}): create it first (resource-manager, tenant volumes API) or correct the name`,
      );
    }
    if (!environment) continue;
    const subnet = environment.cidr ? parseSubnet(environment.cidr) : undefined;
    const gateway = environment.gateway ? parseIp(environment.gateway) : undefined;
    for (const { index, item } of records(ms.props.fixed_ips)) {
      const text = str(item.address);
      const ip = text === undefined ? undefined : parseIp(text);
      // another network, or not an address: rule 4 reported it
      if (!ip || str(item.network) !== network) continue;
      const at = propertyPath(ms.name, 'fixed_ips', index, 'address');
      if (gateway && gateway.family === ip.family && gateway.value === ip.value) {
        findings.error(
          'STRATUM_FIXED_IP_GATEWAY',
          at,
          `fixed IP ${formatIp(ip)} of ${ms.name} is the gateway of network ${network}: the router's address cannot be a container's; use another address of ${environment.cidr ?? network}`,
        );
        continue;
      }
      if (!subnet) continue;
      const usable = usableIn(ip, subnet);
      if (usable === 'ok') continue;
      findings.error(
        'STRATUM_FIXED_IP_OUTSIDE_SUBNET',
        at,
        usable === 'outside'
          ? `fixed IP ${formatIp(ip)} of ${ms.name} is outside the subnet ${environment.cidr} of network ${network}: use an address of that subnet`
          : `fixed IP ${formatIp(ip)} of ${ms.name} is the ${usable} address of the subnet ${environment.cidr} of network ${network}, which no container can have: use another address of that subnet`,
      );
    }
  }
  return findings.diagnostics.sort(compareDiagnostics);
}
