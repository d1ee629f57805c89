import {
  generateIdentityKeyPair,
  IDENTITY_HEADER,
  IdentityKeys,
  type PlatformRole,
  signIdentity,
  type VerifiedIdentity,
} from '@stratum/authz';
import type { KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Who a test calls a service as: roles and tenant are required, the rest has defaults. */
export type TestIdentity = Partial<Omit<VerifiedIdentity, 'issuedAt' | 'expiresAt'>> & {
  roles: PlatformRole[];
  tenantId: string | null;
};

export interface TestIdentityKeys {
  /** Give to `startService(…, { identityKeys })`, or write with `pemFile` for a service process. */
  keys: IdentityKeys;
  /** The private key, for tests that sign tokens themselves. */
  privateKey: KeyObject;
  publicKeyPem: string;
  /** Writes the public key to `<dir>/identity-public-keys.pem` (for STRATUM_IDENTITY_PUBLIC_KEYS); returns the path. */
  pemFile(dir: string): string;
  /** A token for `identity`, as the gateway would sign it. */
  token(identity: TestIdentity, options?: { ttlSeconds?: number; now?: number }): string;
  /** `{ 'x-stratum-identity': token }`, to spread into a request's headers. */
  header(identity: TestIdentity, options?: { ttlSeconds?: number; now?: number }): Record<string, string>;
}

/**
 * A gateway key pair for integration tests, so they call services as any role in any tenant:
 * `fetch(url, { headers: ids.header({ roles: ['tenant-admin'], tenantId: 't1' }) })`.
 */
export function testIdentityKeys(): TestIdentityKeys {
  const { privateKey, publicKeyPem } = generateIdentityKeyPair();
  const keys = IdentityKeys.fromPem(publicKeyPem);
  const token = (identity: TestIdentity, options?: { ttlSeconds?: number; now?: number }) =>
    signIdentity(
      {
        userId: 'test-user',
        userName: 'Test User',
        requestId: `test-${Math.random().toString(36).slice(2, 10)}`,
        ...identity,
      },
      privateKey,
      options,
    );
  return {
    keys,
    privateKey,
    publicKeyPem,
    pemFile(dir) {
      const path = join(dir, 'identity-public-keys.pem');
      writeFileSync(path, publicKeyPem);
      return path;
    },
    token,
    header: (identity, options) => ({ [IDENTITY_HEADER]: token(identity, options) }),
  };
}
