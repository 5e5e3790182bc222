import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateRecoveryCodes, normalizeRecoveryCode } from '../../src/core/recovery-codes.ts';

test('a set is 10 distinct codes of 16 base32 characters shown as xxxx-xxxx-xxxx-xxxx', () => {
  const codes = generateRecoveryCodes(randomBytes);
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const code of codes) assert.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
});

test('each code carries 80 random bits', () => {
  const codes = generateRecoveryCodes(() => Buffer.alloc(10, 0xff));
  assert.equal(codes[0], '7777-7777-7777-7777');
});

test('case, spaces and dashes do not matter when a code is typed', () => {
  assert.equal(normalizeRecoveryCode(' ABCD-efgh 2345-67ab '), 'abcdefgh234567ab');
});

test('anything that is not 16 base32 characters is a wrong code', () => {
  for (const bad of [
    '',
    'abcd-efgh-2345-67a',
    'abcd-efgh-2345-67abc',
    'abcd-efgh-2345-67a1',
    'ａbcd-efgh-2345-67ab',
  ]) {
    assert.equal(normalizeRecoveryCode(bad), null, bad);
  }
});
