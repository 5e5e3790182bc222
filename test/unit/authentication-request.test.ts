import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authenticationRequestOf,
  meetsAuthenticationRequest,
} from '../../src/core/authentication-request.ts';

const MFA = 'urn:portcullis:acr:mfa';
const ONE = 'urn:portcullis:acr:1fa';
const now = new Date('2026-06-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);

test('max_age, acr_values and the claims parameter’s acr are read from the request', () => {
  assert.deepEqual(authenticationRequestOf({}), { maxAgeSeconds: null, acrs: [] });
  assert.deepEqual(authenticationRequestOf({ max_age: '300', acr_values: `${ONE} ${MFA}` }), {
    maxAgeSeconds: 300,
    acrs: [ONE, MFA],
  });
  assert.deepEqual(
    authenticationRequestOf({
      claims: JSON.stringify({ id_token: { acr: { essential: true, value: MFA } } }),
    }),
    { maxAgeSeconds: null, acrs: [MFA] },
  );
  assert.deepEqual(
    authenticationRequestOf({ claims: { id_token: { acr: { values: [MFA, 42] } } }, max_age: 'x' }),
    { maxAgeSeconds: null, acrs: [MFA] },
  );
  assert.deepEqual(authenticationRequestOf({ claims: '{not json' }), {
    maxAgeSeconds: null,
    acrs: [],
  });
});

test('prompt=login (what oidc-provider makes of max_age=0) asks for an authentication of this request', () => {
  assert.deepEqual(authenticationRequestOf({ prompt: 'login', acr_values: MFA }), {
    maxAgeSeconds: 0,
    acrs: [MFA],
  });
  assert.deepEqual(authenticationRequestOf({ prompt: 'consent login', max_age: '600' }), {
    maxAgeSeconds: 0,
    acrs: [],
  });
  assert.deepEqual(authenticationRequestOf({ prompt: 'consent' }), {
    maxAgeSeconds: null,
    acrs: [],
  });
});

test('a session meets a request that asks nothing, or its own level or a weaker one', () => {
  const mfa = { authTime: minutesAgo(5), acr: MFA };
  const single = { authTime: minutesAgo(5), acr: ONE };
  assert.equal(meetsAuthenticationRequest(single, { maxAgeSeconds: null, acrs: [] }, now), true);
  assert.equal(meetsAuthenticationRequest(mfa, { maxAgeSeconds: null, acrs: [ONE] }, now), true);
  assert.equal(meetsAuthenticationRequest(mfa, { maxAgeSeconds: null, acrs: [MFA] }, now), true);
  assert.equal(
    meetsAuthenticationRequest(single, { maxAgeSeconds: null, acrs: [MFA] }, now),
    false,
  );
  assert.equal(
    meetsAuthenticationRequest(single, { maxAgeSeconds: null, acrs: [MFA, ONE] }, now),
    true,
  );
  assert.equal(
    meetsAuthenticationRequest(mfa, { maxAgeSeconds: null, acrs: ['urn:other:loa:3'] }, now),
    false,
    'only unknown levels: never met',
  );
});

test('a session older than max_age does not meet the request', () => {
  const facts = { authTime: minutesAgo(10), acr: MFA };
  assert.equal(meetsAuthenticationRequest(facts, { maxAgeSeconds: 600, acrs: [] }, now), true);
  assert.equal(meetsAuthenticationRequest(facts, { maxAgeSeconds: 599, acrs: [] }, now), false);
  assert.equal(meetsAuthenticationRequest(facts, { maxAgeSeconds: 0, acrs: [] }, now), false);
});
