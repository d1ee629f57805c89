import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The signed identity the gateway passes to the internal services (R-AU-1): the gateway authenticates
 * the caller against Keystone, then sends each proxied request with a short-lived token saying who the
 * caller is, which tenant the Keystone token is scoped to and which platform roles they hold. Services
 * verify it with the gateway's public key(s) and decide with {@link authorize} (./permissions).
 *
 * The token is a compact JWS (RFC 7515) signed with Ed25519 (`alg: EdDSA`); see docs/identity.md.
 */

/** Platform roles (R-AU-3): one platform-wide role, four per tenant. */
export const PLATFORM_ROLES = [
  'platform-admin',
  'tenant-admin',
  'advanced-member',
  'restricted-member',
  'read-only',
] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

/** Who is calling, as the gateway vouches for it. */
export interface VerifiedIdentity {
  /** Keystone user id. */
  userId: string;
  userName: string;
  /** The Keystone project (tenant) id the caller's token is scoped to; null for an unscoped token. */
  tenantId: string | null;
  tenantName?: string;
  roles: PlatformRole[];
  /** The gateway's request id, for correlating logs and audit records. */
  requestId?: string;
  /** Unix seconds. */
  issuedAt: number;
  /** Unix seconds. */
  expiresAt: number;
}

/** The HTTP header carrying the token from the gateway to a service. */
export const IDENTITY_HEADER = 'x-stratum-identity';

export const IDENTITY_TOKEN_TYPE = 'stratum-identity+jwt';
export const IDENTITY_AUDIENCE = 'stratum-services';
export const IDENTITY_ISSUER = 'stratum-gateway';
/** Short: a token captured on the internal network is useless after half a minute. */
export const DEFAULT_IDENTITY_TTL_SECONDS = 30;
export const DEFAULT_CLOCK_SKEW_SECONDS = 5;

export type IdentityErrorCode =
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'bad-claims';

/** A token that must not be trusted; `code` is stable (logs, metrics, tests), the message says why. */
export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

/** The key id of an Ed25519 public key: the first 16 hex characters of the SHA-256 of its SPKI DER. */
export function identityKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function assertEd25519(key: KeyObject, type: 'public' | 'private', what: string): void {
  if (key.type !== type) {
    throw new Error(`${what} must be an Ed25519 ${type} key, got a ${key.type} key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `${what} must be an Ed25519 key, got ${key.asymmetricKeyType ?? 'an unknown key type'} ` +
        '(generate one with `openssl genpkey -algorithm ed25519`)',
    );
  }
}

/**
 * The public keys a service accepts tokens from, by key id. Several at once allow rotation: publish the
 * new public key next to the old one, switch the gateway to the new private key, then drop the old one.
 * Keys are parsed once here; verification only looks them up.
 */
export class IdentityKeys {
  private constructor(private readonly byKid: ReadonlyMap<string, KeyObject>) {}

  /** Public keys (Ed25519 only); at least one. */
  static fromKeys(keys: readonly KeyObject[]): IdentityKeys {
    if (keys.length === 0) throw new Error('no identity public key given; at least one is required');
    const byKid = new Map<string, KeyObject>();
    keys.forEach((key, index) => {
      assertEd25519(key, 'public', `identity key ${index + 1}`);
      byKid.set(identityKeyId(key), key);
    });
    return new IdentityKeys(byKid);
  }

  /** One or more `-----BEGIN PUBLIC KEY-----` blocks (SPKI PEM), e.g. the content of a keys file. */
  static fromPem(pem: string): IdentityKeys {
    const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
    if (blocks.length === 0) {
      throw new Error(
        'no "-----BEGIN PUBLIC KEY-----" block found; expected one or more Ed25519 public keys in PEM (SPKI) form',
      );
    }
    const keys = blocks.map((block, index) => {
      try {
        return createPublicKey({ key: block, format: 'pem' });
      } catch (error) {
        throw new Error(`public key ${index + 1} cannot be parsed: ${(error as Error).message}`);
      }
    });
    return IdentityKeys.fromKeys(keys);
  }

  /** A PEM file holding one or more public keys. */
  static fromFile(path: string): IdentityKeys {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read identity public keys file ${path}: ${(error as Error).message}`);
    }
    try {
      return IdentityKeys.fromPem(pem);
    } catch (error) {
      throw new Error(`${path}: ${(error as Error).message}`);
    }
  }

  get size(): number {
    return this.byKid.size;
  }

  has(kid: string): boolean {
    return this.byKid.has(kid);
  }

  /** The key ids, for logs and error messages. */
  kids(): string[] {
    return [...this.byKid.keys()];
  }

  get(kid: string): KeyObject | undefined {
    return this.byKid.get(kid);
  }
}

/** A key pair for the gateway (or the all-in-one mode and tests). */
export function generateIdentityKeyPair(): {
  privateKey: KeyObject;
  publicKeyPem: string;
  privateKeyPem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** A private key from PKCS#8 PEM (the gateway's configuration). */
export function identityPrivateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey({ key: pem, format: 'pem' });
  assertEd25519(key, 'private', 'the identity signing key');
  return key;
}

const HeaderSchema = z.strictObject({
  alg: z.literal('EdDSA'),
  typ: z.literal(IDENTITY_TOKEN_TYPE),
  kid: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex characters'),
});

const ClaimsSchema = z
  .object({
    sub: z.string().min(1),
    name: z.string(),
    tenant: z.string().min(1).nullable(),
    tenant_name: z.string().optional(),
    roles: z.array(z.enum(PLATFORM_ROLES)),
    rid: z.string().optional(),
    iat: z.number().int().nonnegative(),
    exp: z.number().int().nonnegative(),
    aud: z.unknown(),
    iss: z.literal(IDENTITY_ISSUER),
  })
  .refine((claims) => claims.exp > claims.iat, { message: 'exp must be after iat', path: ['exp'] })
  .refine((claims) => claims.tenant !== null || claims.roles.every((role) => role === 'platform-admin'), {
    message: 'tenant roles require a tenant (the token is not scoped to a project)',
    path: ['tenant'],
  });

type Claims = z.infer<typeof ClaimsSchema>;

const kidCache = new WeakMap<KeyObject, string>();

function kidOfPrivateKey(privateKey: KeyObject): string {
  let kid = kidCache.get(privateKey);
  if (!kid) {
    assertEd25519(privateKey, 'private', 'the identity signing key');
    kid = identityKeyId(createPublicKey(privateKey));
    kidCache.set(privateKey, kid);
  }
  return kid;
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Signs an identity for one request; valid `ttlSeconds` (default 30) from `now` (unix seconds). */
export function signIdentity(
  identity: Omit<VerifiedIdentity, 'issuedAt' | 'expiresAt'>,
  key: KeyObject,
  options: { ttlSeconds?: number; now?: number } = {},
): string {
  const ttl = options.ttlSeconds ?? DEFAULT_IDENTITY_TTL_SECONDS;
  if (!(ttl > 0)) throw new Error(`ttlSeconds must be positive, got ${ttl}`);
  const iat = Math.floor(options.now ?? Date.now() / 1000);
  const header = { alg: 'EdDSA', typ: IDENTITY_TOKEN_TYPE, kid: kidOfPrivateKey(key) };
  const claims: Omit<Claims, 'aud'> & { aud: string } = {
    sub: identity.userId,
    name: identity.userName,
    tenant: identity.tenantId,
    tenant_name: identity.tenantName,
    roles: identity.roles,
    rid: identity.requestId,
    iat,
    exp: iat + Math.ceil(ttl),
    aud: IDENTITY_AUDIENCE,
    iss: IDENTITY_ISSUER,
  };
  const signingInput = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  const signature = sign(null, Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}

function decodeJson(segment: string, what: string): unknown {
  if (!BASE64URL.test(segment)) {
    throw new IdentityError('malformed', `the token's ${what} is not base64url`);
  }
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new IdentityError('malformed', `the token's ${what} is not base64url-encoded JSON`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(claims)'}: ${i.message}`).join('; ');
}

/**
 * Verifies a token and returns the identity it carries; throws {@link IdentityError} otherwise. Checks,
 * in order: shape, header (`alg` exactly EdDSA, type, key id), signature with the key named by `kid`,
 * claims, audience, then time (`iat`/`exp` with `clockSkewSeconds`, default 5, of tolerance).
 */
export function verifyIdentity(
  token: string,
  keys: IdentityKeys,
  options: { now?: number; clockSkewSeconds?: number } = {},
): VerifiedIdentity {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) {
    throw new IdentityError(
      'malformed',
      `the token must be a compact JWS of three dot-separated parts, got ${parts.length}`,
    );
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!BASE64URL.test(payloadPart)) {
    throw new IdentityError('malformed', "the token's payload is not base64url");
  }

  const rawHeader = decodeJson(headerPart, 'header') as { alg?: unknown } | null;
  // Only the one algorithm: never `none`, never an HMAC keyed with the public key.
  if (typeof rawHeader !== 'object' || rawHeader === null || rawHeader.alg !== 'EdDSA') {
    throw new IdentityError(
      'malformed',
      `the token's alg must be EdDSA, got ${JSON.stringify(rawHeader?.alg ?? null)}; only the gateway's Ed25519 signatures are accepted`,
    );
  }
  const header = HeaderSchema.safeParse(rawHeader);
  if (!header.success) {
    throw new IdentityError('malformed', `the token header is invalid: ${describeIssues(header.error)}`);
  }
  const key = keys.get(header.data.kid);
  if (!key) {
    throw new IdentityError(
      'unknown-key',
      `the token is signed with key ${header.data.kid}, which this service does not know (it knows ${keys.kids().join(', ')}); ` +
        "add the gateway's current public key to STRATUM_IDENTITY_PUBLIC_KEYS",
    );
  }
  if (!BASE64URL.test(signaturePart)) {
    throw new IdentityError('malformed', "the token's signature is not base64url");
  }
  const signature = Buffer.from(signaturePart, 'base64url');
  if (signature.length !== 64 || !verify(null, Buffer.from(`${headerPart}.${payloadPart}`), key, signature)) {
    throw new IdentityError(
      'bad-signature',
      `the token's signature does not match key ${header.data.kid}; the token was altered or not signed by the gateway`,
    );
  }

  const claims = ClaimsSchema.safeParse(decodeJson(payloadPart, 'payload'));
  if (!claims.success) {
    throw new IdentityError('bad-claims', `the token's claims are invalid: ${describeIssues(claims.error)}`);
  }
  const c = claims.data;
  if (c.aud !== IDENTITY_AUDIENCE) {
    throw new IdentityError(
      'wrong-audience',
      `the token is meant for ${JSON.stringify(c.aud)}, not for ${IDENTITY_AUDIENCE}`,
    );
  }
  const now = options.now ?? Date.now() / 1000;
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (now - skew >= c.exp) {
    throw new IdentityError(
      'expired',
      `the token expired at ${new Date(c.exp * 1000).toISOString()} (now ${new Date(now * 1000).toISOString()}, ` +
        `${skew} s of clock skew allowed); tokens live ${DEFAULT_IDENTITY_TTL_SECONDS} s, so send the request ` +
        "through the gateway again and check that this host's clock and the gateway's agree (NTP)",
    );
  }
  if (c.iat > now + skew) {
    throw new IdentityError(
      'not-yet-valid',
      `the token is issued at ${new Date(c.iat * 1000).toISOString()}, in the future (now ${new Date(now * 1000).toISOString()}, ` +
        `${skew} s of clock skew allowed); check that this host's clock and the gateway's agree (NTP)`,
    );
  }
  const identity: VerifiedIdentity = {
    userId: c.sub,
    userName: c.name,
    tenantId: c.tenant,
    roles: c.roles,
    issuedAt: c.iat,
    expiresAt: c.exp,
  };
  if (c.tenant_name !== undefined) identity.tenantName = c.tenant_name;
  if (c.rid !== undefined) identity.requestId = c.rid;
  return identity;
}
