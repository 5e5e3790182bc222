import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import {
  createTotpKeyUri,
  encodeTotpSecret,
  generateTotp,
  matchTotpStep,
  normalizeTotpInput,
  totpStepAt,
} from '../../src/core/totp.ts';

const rfcSecret = new TextEncoder().encode('12345678901234567890');

// RFC 6238 Appendix B, SHA-1. The vectors have 8 digits; a 6-digit code is their last 6.
const rfcVectors: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('codes match the RFC 6238 Appendix B vectors (SHA-1)', () => {
  for (const [seconds, expected] of rfcVectors) {
    const step = totpStepAt(new Date(seconds * 1000));
    assert.equal(generateTotp(rfcSecret, step), expected.slice(-6), `T=${seconds}`);
  }
});

test('codes agree with an independent implementation (otpauth)', () => {
  const secret = new Uint8Array(20).map((_, i) => (i * 37 + 11) % 256);
  const reference = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(encodeTotpSecret(secret)),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  });
  for (const seconds of [0, 29, 30, 1_700_000_000, 1_800_000_015]) {
    const at = new Date(seconds * 1000);
    assert.equal(
      generateTotp(secret, totpStepAt(at)),
      reference.generate({ timestamp: at.getTime() }),
    );
  }
});

test('a code of the previous, current or next step is accepted; two steps away is not', () => {
  const now = new Date(1111111111 * 1000);
  const step = totpStepAt(now);
  for (const offset of [-1n, 0n, 1n]) {
    assert.equal(
      matchTotpStep(rfcSecret, generateTotp(rfcSecret, step + offset), now, null),
      step + offset,
    );
  }
  for (const offset of [-2n, 2n]) {
    assert.equal(matchTotpStep(rfcSecret, generateTotp(rfcSecret, step + offset), now, null), null);
  }
});

test('a code whose step is at or below the last used step is a replay', () => {
  const now = new Date(1111111111 * 1000);
  const step = totpStepAt(now);
  const code = generateTotp(rfcSecret, step);
  assert.equal(matchTotpStep(rfcSecret, code, now, step), null);
  assert.equal(matchTotpStep(rfcSecret, code, now, step + 1n), null);
  assert.equal(matchTotpStep(rfcSecret, code, now, step - 1n), step);
  // The previous step's code is refused once the current one was used.
  assert.equal(matchTotpStep(rfcSecret, generateTotp(rfcSecret, step - 1n), now, step), null);
});

test('spaces and dashes are ignored; anything else not six ASCII digits is a wrong code', () => {
  assert.equal(normalizeTotpInput(' 123 456 '), '123456');
  assert.equal(normalizeTotpInput('123-456'), '123456');
  for (const bad of [
    '',
    '12345',
    '1234567',
    '12345a',
    '１２３４５６',
    '١٢٣٤٥٦',
    '123456\u0000',
    '+12345',
  ]) {
    assert.equal(normalizeTotpInput(bad), null, JSON.stringify(bad));
  }
});

test('the key URI carries issuer, account, SHA-1, 6 digits and 30 s, percent-encoded', () => {
  const uri = createTotpKeyUri('Acme & Co', 'ann+mfa@acme.test', rfcSecret);
  assert.equal(
    uri,
    'otpauth://totp/Acme%20%26%20Co:ann%2Bmfa%40acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20%26%20Co&algorithm=SHA1&digits=6&period=30',
  );
  const parsed = OTPAuth.URI.parse(uri);
  assert.ok(parsed instanceof OTPAuth.TOTP);
  assert.equal(parsed.issuer, 'Acme & Co');
  assert.equal(parsed.label, 'ann+mfa@acme.test');
  assert.equal(parsed.secret.base32, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
});
