import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from '../../src/http/log-redaction.ts';

test('the code and state of an SSO callback are replaced, the path and other parameters kept', () => {
  assert.equal(
    redactUrl('/api/v1/auth/sso/callback?code=abc.DEF-123&state=s3cr3t&iss=http%3A%2F%2Fidp'),
    '/api/v1/auth/sso/callback?code=[redacted]&state=[redacted]&iss=http%3A%2F%2Fidp',
  );
  assert.equal(
    redactUrl('/api/v1/auth/sso/callback?error=access_denied&state=s3cr3t'),
    '/api/v1/auth/sso/callback?error=access_denied&state=[redacted]',
  );
});

test('a secret parameter is found however its name is spelled', () => {
  for (const [url, expected] of [
    ['/cb?CODE=x', '/cb?CODE=[redacted]'],
    ['/cb?%63ode=x', '/cb?%63ode=[redacted]'],
    ['/cb?code=x&code=y', '/cb?code=[redacted]&code=[redacted]'],
    ['/cb?code', '/cb?code=[redacted]'],
    ['/cb?access_token=x&id_token=y', '/cb?access_token=[redacted]&id_token=[redacted]'],
    ['/cb?token=x&a=%zz', '/cb?token=[redacted]&a=%zz'],
  ]) {
    assert.equal(redactUrl(url as string), expected, url);
  }
});

test('URLs without a secret are logged as they are', () => {
  for (const url of [
    '/api/v1/org/users?page=2&mfa=none',
    '/api/v1/auth/sso/acme/start?purpose=step_up&return_to=%2Fadmin%2Fusers',
    '/api/v1/me',
    '/?',
    '/x?codes=1&stated=2',
  ]) {
    assert.equal(redactUrl(url), url);
  }
});

test('an app’s hints about the user are not logged: the ID token hint and the login hint', () => {
  assert.equal(
    redactUrl('/oidc/acme/session/end?id_token_hint=eyJ.payload.sig&client_id=app'),
    '/oidc/acme/session/end?id_token_hint=[redacted]&client_id=app',
  );
  assert.equal(
    redactUrl('/oidc/acme/auth?login_hint=ada%40acme.test&scope=openid'),
    '/oidc/acme/auth?login_hint=[redacted]&scope=openid',
  );
});
