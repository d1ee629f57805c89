import { libtrustKeyId } from '@stratum/authz';
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

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
