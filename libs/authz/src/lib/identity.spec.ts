import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateIdentityKeyPair,
  IdentityError,
  type IdentityErrorCode,
  identityKeyId,
  IdentityKeys,
  signIdentity,
  verifyIdentity,
} from './identity';

const NOW = 1_800_000_000;
const alice = {
  userId: 'u-alice',
  userName: 'alice',
  tenantId: 'p-acme',
  tenantName: 'acme',
  roles: ['tenant-admin' as const],
  requestId: 'req-1',
};

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function codeOf(run: () => unknown): IdentityErrorCode {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError);
    return (error as IdentityError).code;
  }
  throw new Error('expected an IdentityError');
}

describe('identity tokens', () => {
  const pair = generateIdentityKeyPair();
  const keys = IdentityKeys.fromPem(pair.publicKeyPem);

  /** Signs arbitrary header and claims with the real key, as a buggy or hostile signer would. */
  function forge(header: Record<string, unknown>, claims: Record<string, unknown>): string {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${sign(null, Buffer.from(input), pair.privateKey).toString('base64url')}`;
  }
  const kid = identityKeyId(keys.get(keys.kids()[0]!)!);
  const goodHeader = { alg: 'EdDSA', typ: 'stratum-identity+jwt', kid };
  const goodClaims = {
    sub: 'u-alice',
    name: 'alice',
    tenant: 'p-acme',
    roles: ['tenant-admin'],
    iat: NOW,
    exp: NOW + 30,
    aud: 'stratum-services',
    iss: 'stratum-gateway',
  };

  it('round-trips an identity, with the header and claims of the documented format', () => {
    const token = signIdentity(alice, pair.privateKey, { now: NOW });
    const [header, payload] = token.split('.') as [string, string, string];
    expect(decode(header)).toEqual({ alg: 'EdDSA', typ: 'stratum-identity+jwt', kid });
    expect(decode(payload)).toEqual({
      sub: 'u-alice',
      name: 'alice',
      tenant: 'p-acme',
      tenant_name: 'acme',
      roles: ['tenant-admin'],
      rid: 'req-1',
      iat: NOW,
      exp: NOW + 30,
      aud: 'stratum-services',
      iss: 'stratum-gateway',
    });
    expect(verifyIdentity(token, keys, { now: NOW + 1 })).toEqual({
      ...alice,
      issuedAt: NOW,
      expiresAt: NOW + 30,
    });
  });

  it('computes kid as the first 16 hex of the SHA-256 of the SPKI DER', () => {
    const der = keys.get(kid)!.export({ type: 'spki', format: 'der' });
    expect(kid).toBe(createHash('sha256').update(der).digest('hex').slice(0, 16));
    expect(keys.has(kid)).toBe(true);
    expect(keys.size).toBe(1);
  });

  it('carries a platform admin without a tenant', () => {
    const token = signIdentity(
      { userId: 'u-root', userName: 'root', tenantId: null, roles: ['platform-admin'] },
      pair.privateKey,
      { now: NOW },
    );
    expect(verifyIdentity(token, keys, { now: NOW })).toEqual({
      userId: 'u-root',
      userName: 'root',
      tenantId: null,
      roles: ['platform-admin'],
      issuedAt: NOW,
      expiresAt: NOW + 30,
    });
  });

  it('rejects a tampered payload', () => {
    const [header, , signature] = signIdentity(alice, pair.privateKey, { now: NOW }).split('.');
    const escalated = b64({ ...goodClaims, roles: ['platform-admin'] });
    expect(codeOf(() => verifyIdentity(`${header}.${escalated}.${signature}`, keys, { now: NOW }))).toBe(
      'bad-signature',
    );
  });

  it('rejects a tampered signature', () => {
    const [header, payload, signature] = signIdentity(alice, pair.privateKey, { now: NOW }).split('.') as [
      string,
      string,
      string,
    ];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = bytes[0]! ^ 0xff;
    const flipped = bytes.toString('base64url');
    expect(codeOf(() => verifyIdentity(`${header}.${payload}.${flipped}`, keys, { now: NOW }))).toBe(
      'bad-signature',
    );
    const truncated = bytes.subarray(0, 32).toString('base64url');
    expect(codeOf(() => verifyIdentity(`${header}.${payload}.${truncated}`, keys, { now: NOW }))).toBe(
      'bad-signature',
    );
  });

  it('rejects alg none and HS256, whatever the signature', () => {
    const none = `${b64({ alg: 'none', typ: 'stratum-identity+jwt', kid })}.${b64(goodClaims)}.`;
    expect(codeOf(() => verifyIdentity(none, keys, { now: NOW }))).toBe('malformed');
    const noneWithSig = forge({ ...goodHeader, alg: 'none' }, goodClaims);
    expect(codeOf(() => verifyIdentity(noneWithSig, keys, { now: NOW }))).toBe('malformed');
    const hs256 = forge({ ...goodHeader, alg: 'HS256' }, goodClaims);
    expect(() => verifyIdentity(hs256, keys, { now: NOW })).toThrow(/alg must be EdDSA, got "HS256"/);
    const lowercase = forge({ ...goodHeader, alg: 'eddsa' }, goodClaims);
    expect(codeOf(() => verifyIdentity(lowercase, keys, { now: NOW }))).toBe('malformed');
  });

  it('rejects tokens that are not three base64url JSON parts', () => {
    for (const token of ['', 'abc', 'a.b', 'a.b.c.d', '!!.e30.AA', `${b64(goodHeader)}.%%%.AA`]) {
      expect(codeOf(() => verifyIdentity(token, keys, { now: NOW }))).toBe('malformed');
    }
    expect(codeOf(() => verifyIdentity(forge({ ...goodHeader, typ: 'JWT' }, goodClaims), keys))).toBe(
      'malformed',
    );
  });

  it('rejects an expired token, allowing the clock skew', () => {
    const token = signIdentity(alice, pair.privateKey, { now: NOW });
    expect(verifyIdentity(token, keys, { now: NOW + 34 }).userId).toBe('u-alice');
    expect(codeOf(() => verifyIdentity(token, keys, { now: NOW + 35 }))).toBe('expired');
    expect(codeOf(() => verifyIdentity(token, keys, { now: NOW + 31, clockSkewSeconds: 0 }))).toBe('expired');
    expect(() => verifyIdentity(token, keys, { now: NOW + 3600 })).toThrow(/expired at .*NTP/);
  });

  it('rejects a token issued in the future, allowing the clock skew', () => {
    const token = signIdentity(alice, pair.privateKey, { now: NOW });
    expect(verifyIdentity(token, keys, { now: NOW - 5 }).userId).toBe('u-alice');
    expect(codeOf(() => verifyIdentity(token, keys, { now: NOW - 6 }))).toBe('not-yet-valid');
  });

  it('honours the ttl option', () => {
    const token = signIdentity(alice, pair.privateKey, { now: NOW, ttlSeconds: 300 });
    expect(verifyIdentity(token, keys, { now: NOW + 200 }).expiresAt).toBe(NOW + 300);
  });

  it('rejects a token signed by a key it does not know', () => {
    const other = generateIdentityKeyPair();
    const token = signIdentity(alice, other.privateKey, { now: NOW });
    expect(codeOf(() => verifyIdentity(token, keys, { now: NOW }))).toBe('unknown-key');
    expect(() => verifyIdentity(token, keys, { now: NOW })).toThrow(/STRATUM_IDENTITY_PUBLIC_KEYS/);
  });

  it('accepts every key of a rotation PEM', () => {
    const next = generateIdentityKeyPair();
    const both = IdentityKeys.fromPem(`${pair.publicKeyPem}\n${next.publicKeyPem}`);
    expect(both.size).toBe(2);
    for (const signer of [pair, next]) {
      const token = signIdentity(alice, signer.privateKey, { now: NOW });
      expect(verifyIdentity(token, both, { now: NOW }).userId).toBe('u-alice');
    }
  });

  it('rejects bad claims: unknown role, wrong issuer, tenant roles without a tenant', () => {
    const cases: Record<string, unknown>[] = [
      { ...goodClaims, roles: ['superuser'] },
      { ...goodClaims, iss: 'someone-else' },
      { ...goodClaims, tenant: null },
      { ...goodClaims, sub: '' },
      { ...goodClaims, exp: NOW },
      { ...goodClaims, iat: String(NOW) },
    ];
    for (const claims of cases) {
      expect(codeOf(() => verifyIdentity(forge(goodHeader, claims), keys, { now: NOW }))).toBe('bad-claims');
    }
    expect(() =>
      verifyIdentity(forge(goodHeader, { ...goodClaims, roles: ['superuser'] }), keys, { now: NOW }),
    ).toThrow(/roles\.0/);
  });

  it('rejects a token for another audience', () => {
    const token = forge(goodHeader, { ...goodClaims, aud: 'stratum-registry' });
    expect(codeOf(() => verifyIdentity(token, keys, { now: NOW }))).toBe('wrong-audience');
  });

  it('verifies fast: keys are parsed once', () => {
    const token = signIdentity(alice, pair.privateKey);
    const rounds = 2_000;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) verifyIdentity(token, keys);
    const perVerifyMs = (performance.now() - started) / rounds;
    // ~0.1 ms on a laptop; the bound leaves room for a loaded CI machine.
    expect(perVerifyMs).toBeLessThan(1);
  });
});

describe('IdentityKeys', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stratum-authz-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a PEM file', () => {
    const { publicKeyPem } = generateIdentityKeyPair();
    const path = join(dir, 'keys.pem');
    writeFileSync(path, publicKeyPem);
    expect(IdentityKeys.fromFile(path).size).toBe(1);
  });

  it('says what is wrong with a missing file, no key, or a key that is not Ed25519', () => {
    expect(() => IdentityKeys.fromFile(join(dir, 'missing.pem'))).toThrow(
      /cannot read identity public keys file/,
    );
    expect(() => IdentityKeys.fromPem('hello')).toThrow(/no "-----BEGIN PUBLIC KEY-----" block/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(() => IdentityKeys.fromPem(rsa.toString())).toThrow(/must be an Ed25519 key, got rsa/);
    expect(() =>
      IdentityKeys.fromPem('-----BEGIN PUBLIC KEY-----\nnotbase64\n-----END PUBLIC KEY-----'),
    ).toThrow(/public key 1 cannot be parsed/);
  });

  it('refuses to sign with a key that is not an Ed25519 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => signIdentity(alice, rsa)).toThrow(/Ed25519/);
  });
});
