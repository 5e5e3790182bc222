import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import type { RandomBytes } from './tokens.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Keys derived from the one master key (PORTCULLIS_ENCRYPTION_KEY) with HKDF, one per purpose,
 * so that the AES key never doubles as an HMAC key.
 */
export type ServerKeys = {
  encryption: Buffer;
  codeHmac: Buffer;
  /** Signs the OpenID Provider's cookies (its session, its interactions), on every instance. */
  providerCookies: Buffer;
};

export function deriveServerKeys(masterKey: Buffer): ServerKeys {
  if (masterKey.length !== 32) throw new TypeError('the master key must be 32 bytes');
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
  return {
    encryption: derive('portcullis/v1/aes-256-gcm'),
    codeHmac: derive('portcullis/v1/code-hmac'),
    providerCookies: derive('portcullis/v1/oidc-cookies'),
  };
}

/**
 * AES-256-GCM; the output is "v1.<iv>.<ciphertext+tag>" in base64url. The associated data binds a
 * ciphertext to its row (e.g. the factor id), so a secret copied to another row does not decrypt.
 */
export function encryptSecret(
  key: Buffer,
  plaintext: Uint8Array,
  associatedData: string,
  randomBytes: RandomBytes,
): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** Throws on a wrong key or tampered data: a stored secret that does not decrypt is a bug. */
export function decryptSecret(key: Buffer, sealed: string, associatedData: string): Uint8Array {
  const [version, ivText, bodyText] = sealed.split('.');
  if (version !== 'v1' || !ivText || !bodyText) throw new Error('unknown secret format');
  const body = Buffer.from(bodyText, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(body.subarray(0, body.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/** Recovery and emailed codes are stored as HMAC-SHA-256 under a server key, never in clear. */
export function hmacCode(key: Buffer, code: string): string {
  return createHmac('sha256', key).update(code, 'utf8').digest('hex');
}
