import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MFA_LOCK_SECONDS } from '../../../src/core/limits.ts';
import type { MfaPolicy } from '../../../src/store/schema.ts';
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

async function orgWithPolicy(policy: MfaPolicy) {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', seeded.org.id)
    .execute();
  const login = (password = MEMBER_PASSWORD) =>
    testApp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email: seeded.member.email, password },
    });
  return { ...testApp, ...seeded, login };
}

/** A member who went through enrollment; returns what the authenticator app holds. */
async function enrolledMember(policy: MfaPolicy = 'required') {
  const context = await orgWithPolicy(policy);
  const first = await context.login();
  const enrolled = await enrollTotp(context.app, sessionCookieOf(first), context.clock);
  return { ...context, ...enrolled };
}

test('under required: password, enrollment by QR code, code, recovery codes, then authenticated', async (t) => {
  const { app, clock, org, member, login } = await orgWithPolicy('required');
  t.after(() => app.close());

  const first = await login();
  assert.equal(first.statusCode, 200);
  assert.deepEqual(first.json(), { status: 'enrollment_required', aal: 1, methods: [] });
  const pending = sessionCookieOf(first);

  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(pending),
  });
  assert.equal(setup.statusCode, 200);
  assert.equal(setup.headers['cache-control'], 'no-store');
  const { secret, otpauth_uri, qr_svg } = setup.json();
  assert.match(secret, /^[A-Z2-7]{32}$/); // 160 bits, base32, no padding
  assert.equal(
    otpauth_uri,
    `otpauth://totp/${encodeURIComponent(org.name)}:${encodeURIComponent(member.email)}?secret=${secret}&issuer=${encodeURIComponent(org.name)}&algorithm=SHA1&digits=6&period=30`,
  );
  assert.match(qr_svg, /^<svg[\s\S]*<\/svg>\s*$/);

  const confirm = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/confirm',
    headers: withSession(pending),
    payload: { code: authenticatorCode(secret, clock) },
  });
  assert.equal(confirm.statusCode, 200);
  const codes: string[] = confirm.json().recovery_codes;
  assert.equal(codes.length, 10);
  const authenticated = sessionCookieOf(confirm);
  assert.notEqual(authenticated, pending);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(pending) })).statusCode,
    401,
  );

  const me = await app.inject({ url: '/api/v1/me', headers: withSession(authenticated) });
  assert.deepEqual(me.json().session, { status: 'authenticated', aal: 2 });
  assert.equal(me.json().mfa.policy, 'required');
  assert.deepEqual(
    me.json().mfa.methods.map((m: { type: string }) => m.type),
    ['totp'],
  );
  assert.equal(me.json().mfa.recovery_codes_remaining, 10);
  // The secret is never shown again, and is not stored in clear.
  assert.ok(!me.body.includes(secret));
  const row = await store.db
    .selectFrom('factors')
    .selectAll()
    .where('user_id', '=', member.id)
    .executeTakeFirstOrThrow();
  assert.ok(row.secret_ciphertext && !row.secret_ciphertext.includes(secret));
  const recoveryRows = await store.db
    .selectFrom('recovery_codes')
    .select('code_hmac')
    .where('user_id', '=', member.id)
    .execute();
  assert.equal(recoveryRows.length, 10);
  for (const code of codes)
    assert.ok(!JSON.stringify(recoveryRows).includes(code.replaceAll('-', '')));

  // The next sign-in asks for the code, and the code completes it with a new token.
  clock.advanceSeconds(30);
  const second = await login();
  assert.deepEqual(second.json(), {
    status: 'mfa_required',
    aal: 1,
    methods: ['totp', 'recovery_code'],
  });
  const verified = await verify(
    app,
    sessionCookieOf(second),
    'totp',
    authenticatorCode(secret, clock),
  );
  assert.equal(verified.statusCode, 200);
  assert.deepEqual(verified.json(), { status: 'authenticated', aal: 2 });
  assert.notEqual(sessionCookieOf(verified), sessionCookieOf(second));
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(sessionCookieOf(second)) }))
      .statusCode,
    401,
  );
});

test('a replayed TOTP code is refused, in the same session or another', async (t) => {
  const { app, clock, secret, login } = await enrolledMember();
  t.after(() => app.close());
  const code = authenticatorCode(secret, clock);
  const first = sessionCookieOf(await login());
  assert.equal((await verify(app, first, 'totp', code)).statusCode, 200);
  const second = sessionCookieOf(await login());
  const replay = await verify(app, second, 'totp', code);
  assert.equal(replay.statusCode, 401);
  assert.equal(replay.json().error, 'invalid_code');
});

test('the code used to confirm enrollment cannot then sign in', async (t) => {
  const context = await orgWithPolicy('required');
  t.after(() => context.app.close());
  const pending = sessionCookieOf(await context.login());
  const setup = await context.app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(pending),
  });
  const code = authenticatorCode(setup.json().secret, context.clock);
  await context.app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/confirm',
    headers: withSession(pending),
    payload: { code },
  });
  const next = sessionCookieOf(await context.login());
  assert.equal((await verify(context.app, next, 'totp', code)).statusCode, 401);
});

test('a code one step old is accepted, two steps old is refused', async (t) => {
  const { app, clock, secret, login } = await enrolledMember();
  t.after(() => app.close());
  // Far enough from the enrollment that neither old step was ever used.
  clock.advanceSeconds(120);
  const twoOld = authenticatorCode(secret, clock, -2);
  const oneOld = authenticatorCode(secret, clock, -1);
  const token = sessionCookieOf(await login());
  assert.equal((await verify(app, token, 'totp', twoOld)).statusCode, 401);
  assert.equal((await verify(app, token, 'totp', oneOld)).statusCode, 200);
});

test('a recovery code works once', async (t) => {
  const { app, recoveryCodes, login } = await enrolledMember();
  t.after(() => app.close());
  const code = recoveryCodes[3] as string;
  const first = await verify(
    app,
    sessionCookieOf(await login()),
    'recovery_code',
    code.toUpperCase(),
  );
  assert.equal(first.statusCode, 200);
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(sessionCookieOf(first)) });
  assert.equal(me.json().mfa.recovery_codes_remaining, 9);
  const again = await verify(app, sessionCookieOf(await login()), 'recovery_code', code);
  assert.equal(again.statusCode, 401);
  assert.equal(again.json().error, 'invalid_code');
});

test('5 wrong codes lock verification for 15 minutes, even for the right code', async (t) => {
  const { app, clock, secret, login, org, member } = await enrolledMember();
  t.after(() => app.close());
  // Wrong guesses spread over sessions and methods all count.
  for (let i = 0; i < 5; i += 1) {
    const token = sessionCookieOf(await login());
    const method = i % 2 === 0 ? 'totp' : 'recovery_code';
    const wrong = method === 'totp' ? '000000' : 'aaaa-aaaa-aaaa-aaaa';
    assert.equal((await verify(app, token, method, wrong)).statusCode, 401);
  }
  const token = sessionCookieOf(await login());
  const locked = await verify(app, token, 'totp', authenticatorCode(secret, clock));
  assert.equal(locked.statusCode, 429);
  assert.equal(locked.json().error, 'too_many_attempts');
  assert.equal(locked.json().retry_after, MFA_LOCK_SECONDS);

  clock.advanceSeconds(MFA_LOCK_SECONDS - 30);
  const stillLocked = await verify(
    app,
    sessionCookieOf(await login()),
    'totp',
    authenticatorCode(secret, clock),
  );
  assert.equal(stillLocked.statusCode, 429);
  clock.advanceSeconds(30);
  const unlocked = await verify(
    app,
    sessionCookieOf(await login()),
    'totp',
    authenticatorCode(secret, clock),
  );
  assert.equal(unlocked.statusCode, 200);

  const types = await store.db
    .selectFrom('audit_events')
    .select('type')
    .where('org_id', '=', org.id)
    .where('target_user_id', '=', member.id)
    .where('type', 'like', 'mfa.%')
    .execute();
  const count = (type: string) => types.filter((e) => e.type === type).length;
  assert.equal(count('mfa.verification_failed'), 5);
  assert.equal(count('mfa.locked'), 1);
  assert.equal(count('mfa.verified'), 1);
  assert.equal(count('mfa.enrolled'), 1);
});

test('a success resets the count of failed codes', async (t) => {
  const { app, clock, secret, login } = await enrolledMember();
  t.after(() => app.close());
  for (let i = 0; i < 4; i += 1)
    await verify(app, sessionCookieOf(await login()), 'totp', '000000');
  assert.equal(
    (await verify(app, sessionCookieOf(await login()), 'totp', authenticatorCode(secret, clock)))
      .statusCode,
    200,
  );
  clock.advanceSeconds(30);
  for (let i = 0; i < 4; i += 1) {
    assert.equal(
      (await verify(app, sessionCookieOf(await login()), 'totp', '000000')).statusCode,
      401,
    );
  }
  assert.equal(
    (await verify(app, sessionCookieOf(await login()), 'totp', authenticatorCode(secret, clock)))
      .statusCode,
    200,
  );
});

test('a pre-MFA session expires after 10 minutes', async (t) => {
  const { app, clock, secret, login } = await enrolledMember();
  t.after(() => app.close());
  const token = sessionCookieOf(await login());
  clock.advanceSeconds(10 * 60);
  const late = await verify(app, token, 'totp', authenticatorCode(secret, clock));
  assert.equal(late.statusCode, 401);
  assert.equal(late.json().error, 'unauthenticated');
});

test('a new setup voids the earlier pending secret', async (t) => {
  const { app, clock, login } = await orgWithPolicy('required');
  t.after(() => app.close());
  const token = sessionCookieOf(await login());
  const setup = () =>
    app.inject({ method: 'POST', url: '/api/v1/me/mfa/totp/setup', headers: withSession(token) });
  const first = (await setup()).json().secret;
  const second = (await setup()).json().secret;
  assert.notEqual(first, second);
  const confirmWith = (secret: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/me/mfa/totp/confirm',
      headers: withSession(token),
      payload: { code: authenticatorCode(secret, clock) },
    });
  assert.equal((await confirmWith(first)).statusCode, 401);
  assert.equal((await confirmWith(second)).statusCode, 200);
});

test('under enabled: no factor signs in with the password alone; an opted-in user is asked', async (t) => {
  const { app, clock, login } = await orgWithPolicy('enabled');
  t.after(() => app.close());
  const first = await login();
  assert.deepEqual(first.json(), { status: 'authenticated', aal: 1, methods: [] });
  await enrollTotp(app, sessionCookieOf(first), clock);
  const second = await login();
  assert.deepEqual(second.json(), {
    status: 'mfa_required',
    aal: 1,
    methods: ['totp', 'recovery_code'],
  });
});

test('under disabled: an enrolled user is not asked, and no one can set up a factor', async (t) => {
  const { app, login, org } = await enrolledMember('enabled');
  t.after(() => app.close());
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'disabled' })
    .where('id', '=', org.id)
    .execute();
  const signedIn = await login();
  assert.deepEqual(signedIn.json(), { status: 'authenticated', aal: 1, methods: [] });
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(sessionCookieOf(signedIn)),
  });
  assert.equal(setup.statusCode, 403);
  assert.equal(setup.json().error, 'mfa_disabled');
});

test('an enrolled user adding a new authenticator must step up first', async (t) => {
  const { app, clock, secret, login } = await enrolledMember('enabled');
  t.after(() => app.close());
  const pending = sessionCookieOf(await login());
  const token = sessionCookieOf(
    await verify(app, pending, 'totp', authenticatorCode(secret, clock)),
  );
  clock.advanceSeconds(30);
  const bare = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(token),
  });
  assert.equal(bare.statusCode, 403);
  assert.deepEqual(bare.json().methods, ['totp', 'recovery_code']);
  assert.equal(bare.json().error, 'verification_required');
  const replaced = await enrollTotp(app, token, clock, {
    method: 'totp',
    code: authenticatorCode(secret, clock),
  });
  assert.notEqual(replaced.secret, secret);
  // The old authenticator no longer works; the new one does.
  const next = sessionCookieOf(await login());
  assert.equal((await verify(app, next, 'totp', authenticatorCode(secret, clock))).statusCode, 401);
  assert.equal(
    (await verify(app, next, 'totp', authenticatorCode(replaced.secret, clock))).statusCode,
    200,
  );
});

test('a session waiting for its code cannot set up a factor (enrollment takeover)', async (t) => {
  const { app, login } = await enrolledMember();
  t.after(() => app.close());
  const pending = sessionCookieOf(await login());
  for (const url of ['/api/v1/me/mfa/totp/setup', '/api/v1/me/mfa/totp/confirm']) {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: withSession(pending),
      payload: { code: '123456' },
    });
    assert.equal(response.statusCode, 403, url);
    assert.equal(response.json().error, 'mfa_required', url);
  }
});
