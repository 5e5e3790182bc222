import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { errorMessages } from '../../../src/core/errors.ts';
import { PASSWORD_MAX_FAILURES } from '../../../src/core/limits.ts';
import {
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, verify } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

const NEW_PASSWORD = 'a brand new passphrase';

/** A member of an org under `policy`, enrolled with an authenticator app, fully signed in. */
async function enrolledMember(policy: 'enabled' | 'required' = 'required') {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', seeded.org.id)
    .execute();
  const { app, clock } = testApp;
  const login = (password = MEMBER_PASSWORD) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email: seeded.member.email, password },
    });
  const enrolled = await enrollTotp(app, sessionCookieOf(await login()), clock);
  const totp = () => ({ method: 'totp', code: authenticatorCode(enrolled.secret, clock) });
  /** A full sign-in with a fresh TOTP code; moves the clock so the code is not reused later. */
  const signInFully = async () => {
    const signedIn = await verify(app, sessionCookieOf(await login()), 'totp', totp().code);
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    clock.advanceSeconds(30);
    return sessionCookieOf(signedIn);
  };
  return { ...testApp, ...seeded, enrolled, login, totp, signInFully, token: await signInFully() };
}

function post(app: FastifyInstance, token: string, url: string, payload: object = {}) {
  return app.inject({ method: 'POST', url: `/api/v1${url}`, headers: withSession(token), payload });
}

function changePassword(app: FastifyInstance, token: string, extra: object = {}) {
  return post(app, token, '/me/password', {
    current_password: MEMBER_PASSWORD,
    new_password: NEW_PASSWORD,
    ...extra,
  });
}

/** Adds the email method (stepping up with TOTP), through the recording mailer. */
async function addEmailMethod(context: Awaited<ReturnType<typeof enrolledMember>>) {
  const { app, mailer, member, token, totp, clock } = context;
  const setup = await post(app, token, '/me/mfa/email/setup', { verification: totp() });
  assert.equal(setup.statusCode, 202, setup.body);
  const confirm = await post(app, token, '/me/mfa/email/confirm', {
    code: mailer.codeFor(member.email),
  });
  assert.equal(confirm.statusCode, 200, confirm.body);
  clock.advanceSeconds(30);
  return confirm.json().recovery_codes as string[];
}

test('changing the password without a verification answers 403 with the methods offered', async (t) => {
  const { app, token } = await enrolledMember();
  t.after(() => app.close());
  const response = await changePassword(app, token);
  assert.equal(response.statusCode, 403);
  assert.equal(response.json().error, 'verification_required');
  assert.deepEqual(response.json().methods, ['totp', 'recovery_code']);
});

test('with two methods both are offered', async (t) => {
  const context = await enrolledMember();
  t.after(() => context.app.close());
  await addEmailMethod(context);
  const { app, token } = context;
  const bare = await changePassword(app, token);
  assert.deepEqual(bare.json().methods, ['totp', 'email', 'recovery_code']);
});

test('change password with a TOTP code: other sessions end, this one goes on, the user is emailed', async (t) => {
  const { app, mailer, member, token, totp, signInFully, login } = await enrolledMember();
  t.after(() => app.close());
  const other = await signInFully();
  const changed = await changePassword(app, token, { verification: totp() });
  assert.equal(changed.statusCode, 204, changed.body);
  const continued = sessionCookieOf(changed);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(other) })).statusCode,
    401,
  );
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(token) })).statusCode,
    401,
  );
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(continued) });
  assert.equal(me.statusCode, 200);
  assert.deepEqual(me.json().session, { status: 'authenticated', aal: 2 });
  assert.equal((await login()).statusCode, 401);
  assert.equal((await login(NEW_PASSWORD)).statusCode, 200);
  assert.match(mailer.lastTo(member.email).subject, /your password was changed/);
});

test('change password with an emailed code', async (t) => {
  const context = await enrolledMember();
  t.after(() => context.app.close());
  await addEmailMethod(context);
  const { app, mailer, member, token } = context;
  assert.equal((await post(app, token, '/auth/verification/email')).statusCode, 202);
  const code = mailer.codeFor(member.email);
  const changed = await changePassword(app, token, { verification: { method: 'email', code } });
  assert.equal(changed.statusCode, 204, changed.body);
});

test('change password with a recovery code, which is then spent', async (t) => {
  const { app, enrolled, token } = await enrolledMember();
  t.after(() => app.close());
  const code = enrolled.recoveryCodes[0] as string;
  const changed = await changePassword(app, token, {
    verification: { method: 'recovery_code', code },
  });
  assert.equal(changed.statusCode, 204);
  const me = await app.inject({
    url: '/api/v1/me',
    headers: withSession(sessionCookieOf(changed)),
  });
  assert.equal(me.json().mfa.recovery_codes_remaining, 9);
});

test('a wrong current password is 401, consumes no code, and counts toward the account lock', async (t) => {
  const { app, token, totp, login } = await enrolledMember();
  t.after(() => app.close());
  const verification = totp();
  const wrongChange = () =>
    post(app, token, '/me/password', {
      current_password: 'not my password',
      new_password: NEW_PASSWORD,
      verification,
    });
  const wrong = await wrongChange();
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().error, 'invalid_credentials');
  for (let i = 1; i < PASSWORD_MAX_FAILURES; i += 1)
    assert.equal((await wrongChange()).statusCode, 401);
  // Ten wrong current passwords lock the account, for sign-in too.
  const signIn = await login();
  assert.equal(signIn.statusCode, 429);
  assert.equal(signIn.json().error, 'rate_limited');
  assert.equal((await changePassword(app, token, { verification })).statusCode, 429);
});

test('a code sent with a wrong current password is not spent', async (t) => {
  const { app, token, totp } = await enrolledMember();
  t.after(() => app.close());
  const verification = totp();
  const wrong = await post(app, token, '/me/password', {
    current_password: 'not my password',
    new_password: NEW_PASSWORD,
    verification,
  });
  assert.equal(wrong.statusCode, 401);
  assert.equal((await changePassword(app, token, { verification })).statusCode, 204);
});

test('a weak new password is refused before anything is checked or spent', async (t) => {
  const { app, token, totp } = await enrolledMember();
  t.after(() => app.close());
  const verification = totp();
  const weak = await post(app, token, '/me/password', {
    current_password: MEMBER_PASSWORD,
    new_password: 'short',
    verification,
  });
  assert.equal(weak.statusCode, 400);
  assert.equal(weak.json().error, 'weak_password');
  assert.equal((await changePassword(app, token, { verification })).statusCode, 204);
});

test('one code serves one action: a code used to change the password cannot disable a method', async (t) => {
  const context = await enrolledMember('enabled');
  t.after(() => context.app.close());
  await addEmailMethod(context);
  const { app, token, totp } = context;
  const verification = totp();
  const changed = await changePassword(app, token, { verification });
  assert.equal(changed.statusCode, 204);
  const reuse = await post(app, sessionCookieOf(changed), '/me/mfa/email/disable', {
    verification,
  });
  assert.equal(reuse.statusCode, 401);
  assert.equal(reuse.json().error, 'invalid_code');
});

test('an emailed step-up code works only in the session it was sent for', async (t) => {
  const context = await enrolledMember();
  t.after(() => context.app.close());
  await addEmailMethod(context);
  const { app, mailer, member, token, signInFully } = context;
  const other = await signInFully();
  assert.equal((await post(app, other, '/auth/verification/email')).statusCode, 202);
  const code = mailer.codeFor(member.email);
  const elsewhere = await post(app, token, '/me/recovery-codes', {
    verification: { method: 'email', code },
  });
  assert.equal(elsewhere.statusCode, 401);
  const here = await post(app, other, '/me/recovery-codes', {
    verification: { method: 'email', code },
  });
  assert.equal(here.statusCode, 200);
});

test('disabling a method asks for a code; the last method under required stays (409)', async (t) => {
  const context = await enrolledMember('required');
  t.after(() => context.app.close());
  const { app, mailer, member, token, totp } = context;
  const last = await post(app, token, '/me/mfa/totp/disable', { verification: totp() });
  assert.equal(last.statusCode, 409);
  assert.equal(last.json().error, 'last_method_required');

  await addEmailMethod(context);
  const bare = await post(app, token, '/me/mfa/totp/disable');
  assert.equal(bare.statusCode, 403);
  assert.equal(bare.json().error, 'verification_required');
  const disabled = await post(app, token, '/me/mfa/totp/disable', { verification: totp() });
  assert.equal(disabled.statusCode, 204);
  assert.match(mailer.lastTo(member.email).subject, /Authenticator App verification turned off/);
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.deepEqual(
    me.json().mfa.methods.map((m: { type: string }) => m.type),
    ['email'],
  );
  const again = await post(app, token, '/me/mfa/totp/disable', { verification: totp() });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error, 'method_not_enabled');
});

test('under enabled the last method can go, and its recovery codes with it', async (t) => {
  const { app, token, totp, login } = await enrolledMember('enabled');
  t.after(() => app.close());
  const disabled = await post(app, token, '/me/mfa/totp/disable', { verification: totp() });
  assert.equal(disabled.statusCode, 204);
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.deepEqual([me.json().mfa.methods, me.json().mfa.recovery_codes_remaining], [[], 0]);
  assert.deepEqual((await login()).json(), { status: 'authenticated', aal: 1, methods: [] });
});

test('re-enabling a method gives a new set of 10 recovery codes and the old set is dead', async (t) => {
  const context = await enrolledMember('enabled');
  t.after(() => context.app.close());
  const { app, token, totp, enrolled, clock, login } = context;
  assert.equal(
    (await post(app, token, '/me/mfa/totp/disable', { verification: totp() })).statusCode,
    204,
  );
  const again = await enrollTotp(app, token, clock);
  assert.equal(again.recoveryCodes.length, 10);
  assert.equal(new Set([...again.recoveryCodes, ...enrolled.recoveryCodes]).size, 20);
  const pending = sessionCookieOf(await login());
  assert.equal(
    (await verify(app, pending, 'recovery_code', enrolled.recoveryCodes[1] as string)).statusCode,
    401,
  );
  assert.equal(
    (await verify(app, pending, 'recovery_code', again.recoveryCodes[1] as string)).statusCode,
    200,
  );
});

test('regenerating recovery codes needs a code and kills the old set', async (t) => {
  const { app, token, totp, enrolled, login } = await enrolledMember();
  t.after(() => app.close());
  assert.equal((await post(app, token, '/me/recovery-codes')).statusCode, 403);
  const fresh = await post(app, token, '/me/recovery-codes', { verification: totp() });
  assert.equal(fresh.statusCode, 200);
  const codes: string[] = fresh.json().recovery_codes;
  assert.equal(codes.length, 10);
  const pending = sessionCookieOf(await login());
  assert.equal(
    (await verify(app, pending, 'recovery_code', enrolled.recoveryCodes[2] as string)).statusCode,
    401,
  );
  assert.equal((await verify(app, pending, 'recovery_code', codes[2] as string)).statusCode, 200);
});

test('every step-up action is refused to a session waiting for its second factor', async (t) => {
  const { app, login } = await enrolledMember();
  t.after(() => app.close());
  const pending = sessionCookieOf(await login());
  const actions: [string, object][] = [
    ['/me/password', { current_password: MEMBER_PASSWORD, new_password: NEW_PASSWORD }],
    ['/me/mfa/totp/disable', {}],
    ['/me/mfa/email/disable', {}],
    ['/me/recovery-codes', {}],
    ['/me/mfa/totp/setup', {}],
    ['/me/mfa/email/setup', {}],
  ];
  for (const [url, body] of actions) {
    const response = await post(app, pending, url, body);
    assert.equal(response.statusCode, 403, url);
    assert.equal(response.json().error, 'mfa_required', url);
  }
});

test('every step-up action is refused without a verification when MFA applies', async (t) => {
  const context = await enrolledMember('enabled');
  t.after(() => context.app.close());
  await addEmailMethod(context);
  const { app, token } = context;
  const actions: [string, object][] = [
    ['/me/password', { current_password: MEMBER_PASSWORD, new_password: NEW_PASSWORD }],
    ['/me/mfa/totp/disable', {}],
    ['/me/mfa/email/disable', {}],
    ['/me/recovery-codes', {}],
    ['/me/mfa/totp/setup', {}],
    ['/me/mfa/email/setup', {}],
  ];
  for (const [url, body] of actions) {
    const response = await post(app, token, url, body);
    assert.equal(response.statusCode, 403, url);
    assert.equal(response.json().error, 'verification_required', url);
    assert.deepEqual(response.json().methods, ['totp', 'email', 'recovery_code'], url);
  }
});

test('without MFA (policy disabled) a password change needs no code', async (t) => {
  const testApp = await createTestApp(store);
  t.after(() => testApp.app.close());
  const { org, member } = await seedOrg(testApp.deps);
  const login = await testApp.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: member.email, password: MEMBER_PASSWORD },
  });
  const changed = await changePassword(testApp.app, sessionCookieOf(login));
  assert.equal(changed.statusCode, 204);
});

type Event = { type: string; details: Record<string, unknown> };
const byTypeAndPurpose = (a: Event, b: Event) =>
  `${a.type} ${a.details.purpose}`.localeCompare(`${b.type} ${b.details.purpose}`);

/** The member's verification events, in a fixed order (the test clock gives them one time). */
async function verificationEvents(userId: string) {
  const rows = await store.db
    .selectFrom('audit_events')
    .select(['type', 'details'])
    .where('actor_user_id', '=', userId)
    .where('type', 'in', ['mfa.verified', 'mfa.verification_failed'])
    .execute();
  return rows.map(({ type, details }) => ({ type, details })).sort(byTypeAndPurpose);
}

test('a step-up’s audit events name the action it was for; a sign-in’s name none', async (t) => {
  const { app, member, token, totp } = await enrolledMember();
  t.after(() => app.close());
  const wrong = await changePassword(app, token, {
    verification: { method: 'totp', code: '000000' },
  });
  assert.equal(wrong.statusCode, 401, wrong.body);
  const changed = await changePassword(app, token, { verification: totp() });
  assert.equal(changed.statusCode, 204, changed.body);

  const events = await verificationEvents(member.id);
  // The sign-in of enrolledMember verified with TOTP for no action.
  const expected = [
    { type: 'mfa.verified', details: { purpose: 'login', method: 'totp' } },
    {
      type: 'mfa.verification_failed',
      details: {
        purpose: 'step_up',
        verified_for: 'change_password',
        method: 'totp',
        consecutive_failures: 1,
      },
    },
    {
      type: 'mfa.verified',
      details: { purpose: 'step_up', verified_for: 'change_password', method: 'totp' },
    },
  ];
  assert.deepEqual(events, expected.sort(byTypeAndPurpose));
});

test('POST /auth/verification/{method} sends the method’s challenge; a method with none is told so', async (t) => {
  const context = await enrolledMember();
  t.after(() => context.app.close());
  await addEmailMethod(context);
  const { app, mailer, member, token } = context;
  const sentBefore = mailer.sent.length;

  for (const method of ['totp', 'recovery_code']) {
    const refused = await post(app, token, `/auth/verification/${method}`);
    assert.equal(refused.statusCode, 400, method);
    assert.deepEqual(refused.json(), {
      error: 'method_has_no_challenge',
      message: errorMessages.method_has_no_challenge,
    });
  }
  const unknown = await post(app, token, '/auth/verification/sms');
  assert.equal(unknown.statusCode, 400);
  assert.equal(unknown.json().error, 'invalid_request');
  assert.equal(mailer.sent.length, sentBefore, 'nothing was sent');

  const sent = await post(app, token, '/auth/verification/email');
  assert.equal(sent.statusCode, 202, sent.body);
  const changed = await changePassword(app, token, {
    verification: { method: 'email', code: mailer.codeFor(member.email) },
  });
  assert.equal(changed.statusCode, 204, changed.body);
});
