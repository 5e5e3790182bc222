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

test('the metrics token is off by default, and a short or oddly written one stops start-up', () => {
  assert.equal(loadConfig({}).metricsToken, null);
  const token = 'a'.repeat(31) + 'B';
  assert.equal(loadConfig({ PORTCULLIS_METRICS_TOKEN: ` ${token} ` }).metricsToken, token);
  assert.equal(
    loadConfig({ PORTCULLIS_METRICS_TOKEN: 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=' })
      .metricsToken,
    'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=',
  );
  for (const value of [
    'a'.repeat(31),
    `${'a'.repeat(32)} b`,
    `${'a'.repeat(32)}"`,
    'é'.repeat(40),
  ]) {
    assert.throws(
      () => loadConfig({ PORTCULLIS_METRICS_TOKEN: value }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^PORTCULLIS_METRICS_TOKEN must be at least 32 /.test(error.message) &&
        !error.message.includes(value),
    );
  }
});

test('a loopback SSO issuer is refused unless PORTCULLIS_SSO_ALLOW_LOOPBACK is true; another value stops start-up', () => {
  assert.equal(loadConfig({}).ssoAllowLoopback, false);
  assert.equal(loadConfig({ PORTCULLIS_SSO_ALLOW_LOOPBACK: '' }).ssoAllowLoopback, false);
  assert.equal(loadConfig({ PORTCULLIS_SSO_ALLOW_LOOPBACK: 'false' }).ssoAllowLoopback, false);
  assert.equal(loadConfig({ PORTCULLIS_SSO_ALLOW_LOOPBACK: ' true ' }).ssoAllowLoopback, true);
  for (const value of ['1', 'yes', 'TRUE', 'on', 'truee']) {
    assert.throws(
      () => loadConfig({ PORTCULLIS_SSO_ALLOW_LOOPBACK: value }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === 'PORTCULLIS_SSO_ALLOW_LOOPBACK must be true or false',
    );
  }
});
