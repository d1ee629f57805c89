import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

/** RFC 4648 base32 alphabet (what Go's base32.StdEncoding uses). */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The key id Docker Distribution looks a token's `kid` up by (libtrust): SHA-256 of the public key's
 * DER SubjectPublicKeyInfo, first 240 bits, base32 without padding, in twelve groups of four joined by ':'.
 * The registry computes it from the certificate in its `rootcertbundle`.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const encoded = base32(createHash('sha256').update(der).digest().subarray(0, 30));
  return encoded.match(/.{4}/g)!.join(':');
}

export interface RegistryAccess {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Signs Docker Registry bearer tokens (the token-authentication spec, R-AU-5): a JWT with `iss`, `sub`,
 * `aud` (the registry's service name), `exp`, `nbf`, `iat`, `jti` and the granted `access`. EC P-256
 * keys sign ES256, RSA keys RS256. The certificate given to the registries as `rootcertbundle` must
 * hold this key's public half; the signer refuses to start otherwise.
 */
export class RegistryTokenSigner {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';

  constructor(
    private readonly privateKey: KeyObject,
    readonly issuer: string,
    readonly ttlSeconds: number,
  ) {
    const type = privateKey.asymmetricKeyType;
    if (type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') this.alg = 'ES256';
    else if (type === 'rsa') this.alg = 'RS256';
    else throw new Error(`registry token key must be EC P-256 or RSA, got ${type}`);
    this.kid = libtrustKeyId(createPublicKey(privateKey));
  }

  static fromFiles(
    keyPath: string,
    certificatePath: string,
    issuer: string,
    ttlSeconds: number,
  ): RegistryTokenSigner {
    const key = createPrivateKey(readFileSync(keyPath, 'utf8'));
    const certificate = new X509Certificate(readFileSync(certificatePath, 'utf8'));
    const signer = new RegistryTokenSigner(key, issuer, ttlSeconds);
    if (libtrustKeyId(certificate.publicKey) !== signer.kid) {
      throw new Error(`${certificatePath} does not hold the public key of ${keyPath}`);
    }
    return signer;
  }

  sign(input: { subject: string; audience: string; access: RegistryAccess[]; now?: number }): {
    token: string;
    expiresIn: number;
    issuedAt: string;
  } {
    const now = Math.floor((input.now ?? Date.now()) / 1000);
    const header = { typ: 'JWT', alg: this.alg, kid: this.kid };
    const claims = {
      iss: this.issuer,
      sub: input.subject,
      aud: input.audience,
      exp: now + this.ttlSeconds,
      // A little before now: the registry's clock may lag the gateway's.
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: input.access,
    };
    const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: this.privateKey,
      ...(this.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    });
    return {
      token: `${signingInput}.${signature.toString('base64url')}`,
      expiresIn: this.ttlSeconds,
      issuedAt: new Date(now * 1000).toISOString(),
    };
  }
}
