import { createPublicKey } from 'node:crypto';
import { generateIdentityKeyPair, IdentityKeys, verifyIdentity } from '@stratum/authz';
import type { Caller } from '../keystone/authenticator';
import { CallerIdentities, IDENTITY_REUSE_SECONDS } from './caller-identities';

// R-AU-1: the identity a service receives always says who the gateway authenticated, and is fresh.
describe('CallerIdentities', () => {
  const keyPair = generateIdentityKeyPair();
  const keys = IdentityKeys.fromKeys([createPublicKey(keyPair.privateKey)]);
  const caller = (roles: Caller['roles'], tenantId = 'tenant-a'): Caller => ({
    userId: 'u-1',
    userName: 'alice',
    tenantId,
    tenantName: 'retail',
    roles,
    tokenExpiresAt: Date.now() + 3_600_000,
  });

  it('signs once per caller within the reuse period, then again with a new issue time', () => {
    let now = 1_000_000;
    const identities = new CallerIdentities(keyPair.privateKey, IDENTITY_REUSE_SECONDS, () => now);
    const alice = caller(['tenant-admin']);
    const first = identities.tokenFor(alice);
    now += IDENTITY_REUSE_SECONDS - 0.5;
    expect(identities.tokenFor(alice)).toBe(first);
    now += 0.5;
    const renewed = identities.tokenFor(alice);
    expect(renewed).not.toBe(first);
    const before = verifyIdentity(first, keys, { now: 1_000_000 });
    const after = verifyIdentity(renewed, keys, { now });
    expect(after.issuedAt - before.issuedAt).toBe(IDENTITY_REUSE_SECONDS);
    // Sent at the end of its reuse period, a token still has this long to live at the service.
    expect(before.expiresAt - (1_000_000 + IDENTITY_REUSE_SECONDS)).toBeGreaterThanOrEqual(20);
  });

  it('carries exactly the caller it was signed for, and no request id', () => {
    const identities = new CallerIdentities(keyPair.privateKey);
    const verified = verifyIdentity(identities.tokenFor(caller(['read-only'], 'tenant-b')), keys);
    expect(verified).toMatchObject({
      userId: 'u-1',
      userName: 'alice',
      tenantId: 'tenant-b',
      tenantName: 'retail',
      roles: ['read-only'],
    });
    expect(verified.requestId).toBeUndefined();
  });

  it('signs afresh for a new validation of the token (e.g. its roles changed in Keystone)', () => {
    const now = 2_000_000;
    const identities = new CallerIdentities(keyPair.privateKey, IDENTITY_REUSE_SECONDS, () => now);
    const before = caller(['tenant-admin']);
    const revalidated = caller(['read-only']);
    expect(verifyIdentity(identities.tokenFor(before), keys, { now }).roles).toEqual(['tenant-admin']);
    expect(verifyIdentity(identities.tokenFor(revalidated), keys, { now }).roles).toEqual(['read-only']);
    expect(verifyIdentity(identities.tokenFor(before), keys, { now }).roles).toEqual(['tenant-admin']);
  });

  it('refuses a reuse period that would send tokens about to expire', () => {
    expect(() => new CallerIdentities(keyPair.privateKey, 30)).toThrow(/under the identity's 30 s/);
    expect(() => new CallerIdentities(keyPair.privateKey, -1)).toThrow(/at least 0/);
  });
});
