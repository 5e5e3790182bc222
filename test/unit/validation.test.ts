import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emailKey,
  parseEmail,
  parseName,
  parseNewPassword,
  parseSlug,
} from '../../src/core/validation.ts';

test('a slug is lowercased and trimmed', () => {
  assert.deepEqual(parseSlug('  Acme-Corp '), { ok: true, value: 'acme-corp' });
});

test('slugs with bad characters, edge hyphens or bad lengths are refused', () => {
  for (const bad of ['a', '-acme', 'acme-', 'ac me', 'acmé', 'a_b', 'x'.repeat(41), '']) {
    assert.deepEqual(parseSlug(bad), { ok: false, error: 'invalid_slug' }, bad);
  }
  assert.equal(parseSlug('x'.repeat(40)).ok, true);
});

test('emails keep their case but share one lowercase key', () => {
  assert.deepEqual(parseEmail(' Ann@Acme.Test '), { ok: true, value: 'Ann@Acme.Test' });
  assert.equal(emailKey('Ann@Acme.Test'), emailKey('ann@acme.test'));
});

test('malformed or overlong emails are refused', () => {
  for (const bad of ['ann', 'ann@', '@acme.test', 'a n@acme.test', `${'a'.repeat(250)}@x.io`]) {
    assert.deepEqual(parseEmail(bad), { ok: false, error: 'invalid_email' }, bad);
  }
});

test('a name is trimmed and must not be empty', () => {
  assert.deepEqual(parseName('  Ann  '), { ok: true, value: 'Ann' });
  assert.deepEqual(parseName('   '), { ok: false, error: 'invalid_name' });
});

test('passwords need 8 characters counted in code points, not UTF-16 units', () => {
  assert.deepEqual(parseNewPassword('1234567'), { ok: false, error: 'weak_password' });
  assert.equal(parseNewPassword('12345678').ok, true);
  // Seven emoji are 14 UTF-16 units but still only 7 characters.
  assert.deepEqual(parseNewPassword('😀'.repeat(7)), { ok: false, error: 'weak_password' });
  assert.equal(parseNewPassword('😀'.repeat(8)).ok, true);
});

test('passwords of 64 characters and any Unicode are accepted; over 256 is refused', () => {
  assert.equal(parseNewPassword('ü'.repeat(64)).ok, true);
  assert.equal(parseNewPassword('密码'.repeat(128)).ok, true);
  assert.deepEqual(parseNewPassword('x'.repeat(257)), { ok: false, error: 'password_too_long' });
});

test('passwords are NFKC-normalized so composed and decomposed forms match', () => {
  const composed = parseNewPassword('caf\u00e9 au lait');
  const decomposed = parseNewPassword('cafe\u0301 au lait');
  assert.ok(composed.ok && decomposed.ok);
  assert.equal(composed.value, decomposed.value);
});
