import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACR_MULTI_FACTOR,
  ACR_SINGLE_FACTOR,
  authenticate,
} from '../../src/core/authentication-facts.ts';

const start = new Date('2026-01-05T09:00:00Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
const federated = (amr: unknown[] | null, authTime: Date | null = null) =>
  ({ method: 'federated', idp: { authTime, amr } }) as const;

test('a password sign-in: now, pwd, single factor', () => {
  assert.deepEqual(authenticate(null, { method: 'password' }, start), {
    authTime: start,
    acr: ACR_SINGLE_FACTOR,
    amr: ['pwd'],
  });
});

test('each second factor after the password makes a multi-factor session at its own time', () => {
  const signedIn = authenticate(null, { method: 'password' }, start);
  for (const method of ['totp', 'email', 'recovery_code'] as const) {
    assert.deepEqual(authenticate(signedIn, { method }, at(20)), {
      authTime: at(20),
      acr: ACR_MULTI_FACTOR,
      amr: ['pwd', 'otp', 'mfa'],
    });
  }
});

test('a step-up adds nothing twice and moves auth_time, never back', () => {
  const full = authenticate(
    authenticate(null, { method: 'password' }, start),
    { method: 'totp' },
    at(20),
  );
  const steppedUp = authenticate(full, { method: 'recovery_code' }, at(600));
  assert.deepEqual(steppedUp, {
    authTime: at(600),
    acr: ACR_MULTI_FACTOR,
    amr: ['pwd', 'otp', 'mfa'],
  });
  // A provider whose auth_time is older than the session's last authentication moves nothing back.
  const viaProvider = authenticate(steppedUp, federated(['pwd'], at(300)), at(700));
  assert.equal(viaProvider.authTime.getTime(), at(600).getTime());
});

test('a one-time code alone is one factor', () => {
  assert.deepEqual(authenticate(null, { method: 'totp' }, start).acr, ACR_SINGLE_FACTOR);
});

test('an SSO sign-in: fed, the provider’s registered amr values only, and its auth_time', () => {
  const facts = authenticate(null, federated(['pwd', 'rsa', 'ngcmfa', 7, 'pwd'], at(-3600)), start);
  assert.deepEqual(facts, { authTime: at(-3600), acr: ACR_SINGLE_FACTOR, amr: ['fed', 'pwd'] });
});

test('a provider’s password and one-time code are two factors, as its explicit mfa is', () => {
  assert.deepEqual(authenticate(null, federated(['pwd', 'otp']), start), {
    authTime: start,
    acr: ACR_MULTI_FACTOR,
    amr: ['fed', 'pwd', 'otp', 'mfa'],
  });
  assert.deepEqual(authenticate(null, federated(['mfa']), start).acr, ACR_MULTI_FACTOR);
  // Two methods of one kind (a password and a PIN) are not two factors.
  assert.deepEqual(authenticate(null, federated(['pwd', 'pin']), start).acr, ACR_SINGLE_FACTOR);
  // Nor are values that prove no factor of their own.
  assert.deepEqual(
    authenticate(null, federated(['pwd', 'rba', 'geo']), start).acr,
    ACR_SINGLE_FACTOR,
  );
});

test('a provider that says nothing: fed, single factor, the time of the callback', () => {
  assert.deepEqual(authenticate(null, federated(null), start), {
    authTime: start,
    acr: ACR_SINGLE_FACTOR,
    amr: ['fed'],
  });
});

test('a provider’s auth_time ahead of our clock is taken as now', () => {
  assert.equal(
    authenticate(null, federated([], at(90)), start).authTime.getTime(),
    start.getTime(),
  );
});
