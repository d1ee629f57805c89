/** Injection tokens of the gateway's interfaces (classes are injected by class). */
export const IdentityProviderToken = Symbol('IdentityProvider');
export const GatewayConfigToken = Symbol('GatewayConfig');
export const UpstreamsToken = Symbol('Upstreams');
