import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  decryptSecret,
  deriveServerKeys,
  encryptSecret,
  hmacCode,
} from '../../src/core/secret-box.ts';

const keys = deriveServerKeys(randomBytes(32));
const secret = new Uint8Array(randomBytes(20));

test('a secret sealed with AES-256-GCM opens with the same key and row binding', () => {
  const sealed = encryptSecret(keys.encryption, secret, 'totp:user-1', randomBytes);
  assert.match(sealed, /^v1\./);
  assert.ok(!sealed.includes(Buffer.from(secret).toString('base64url')));
  assert.deepEqual(decryptSecret(keys.encryption, sealed, 'totp:user-1'), Buffer.from(secret));
});

test('a sealed secret moved to another row, tampered with or opened with another key fails', () => {
  const sealed = encryptSecret(keys.encryption, secret, 'totp:user-1', randomBytes);
  assert.throws(() => decryptSecret(keys.encryption, sealed, 'totp:user-2'));
  const other = deriveServerKeys(randomBytes(32));
  assert.throws(() => decryptSecret(other.encryption, sealed, 'totp:user-1'));
  const [v, iv, body] = sealed.split('.');
  const flipped = Buffer.from(body ?? '', 'base64url');
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  assert.throws(() =>
    decryptSecret(keys.encryption, `${v}.${iv}.${flipped.toString('base64url')}`, 'totp:user-1'),
  );
});

test('the encryption and HMAC keys are distinct derivations of the master key', () => {
  assert.notDeepEqual(keys.encryption, keys.codeHmac);
  assert.equal(hmacCode(keys.codeHmac, 'abc'), hmacCode(keys.codeHmac, 'abc'));
  assert.notEqual(hmacCode(keys.codeHmac, 'abc'), hmacCode(keys.encryption, 'abc'));
});

test('a master key of the wrong size is a programming error', () => {
  assert.throws(() => deriveServerKeys(randomBytes(16)), TypeError);
});
