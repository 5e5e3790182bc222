import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constantTimeEqual, generateToken, hashToken } from '../../src/core/tokens.ts';

test('a session token carries 256 random bits', () => {
  const token = generateToken(randomBytes, 32);
  assert.equal(Buffer.from(token, 'base64url').length, 32);
  assert.notEqual(token, generateToken(randomBytes, 32));
});

test('tokens are stored as their SHA-256, never in clear', () => {
  const token = generateToken(() => Buffer.alloc(32, 1), 32);
  assert.equal(hashToken(token).length, 64);
  assert.notEqual(hashToken(token), token);
  assert.equal(hashToken(token), hashToken(token));
});

test('constant-time comparison tells equal from different strings of any length', () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
});
