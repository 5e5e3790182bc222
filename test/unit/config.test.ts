import assert from 'node:assert/strict';
import test from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { AUTH_REQUESTS_PER_IP_PER_MINUTE, DEFAULT_POOL_SIZE } from '../../src/core/limits.ts';

test('the pool size and the per-IP auth limit default to the documented values', () => {
  const config = loadConfig({});
  assert.equal(config.databasePoolSize, DEFAULT_POOL_SIZE);
  assert.equal(config.authRequestsPerIpPerMinute, AUTH_REQUESTS_PER_IP_PER_MINUTE);
  assert.equal(AUTH_REQUESTS_PER_IP_PER_MINUTE, 60);
});

test('an operator can size the pool and the per-IP auth limit', () => {
  const config = loadConfig({ DATABASE_POOL_SIZE: '24', PORTCULLIS_AUTH_RATE_LIMIT: '600' });
  assert.equal(config.databasePoolSize, 24);
  assert.equal(config.authRequestsPerIpPerMinute, 600);
});

test('a pool size or limit that is not a positive integer stops start-up, naming the variable', () => {
  for (const value of ['0', '-1', '2.5', 'ten', '1e9']) {
    assert.throws(
      () => loadConfig({ DATABASE_POOL_SIZE: value }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^DATABASE_POOL_SIZE must be an integer/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ PORTCULLIS_AUTH_RATE_LIMIT: value }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^PORTCULLIS_AUTH_RATE_LIMIT must be an integer/.test(error.message),
    );
  }
});
