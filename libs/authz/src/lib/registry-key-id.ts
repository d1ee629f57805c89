import { createHash, type KeyObject } from 'node:crypto';

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
 * The registry computes it from the certificate in its `rootcertbundle` (R-AU-5); the gateway's registry
 * token signer and the registry test bench both use this one.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const encoded = base32(createHash('sha256').update(der).digest().subarray(0, 30));
  return encoded.match(/.{4}/g)!.join(':');
}
