import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, verify } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

async function orgUnder(policy: 'disabled' | 'enabled' | 'required') {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  const adminToken = await signIn(testApp.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', seeded.org.id)
    .execute();
  const memberLogin = () =>
    testApp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email: seeded.member.email, password: MEMBER_PASSWORD },
    });
  const setMethods = (body: object, token = adminToken) =>
    testApp.app.inject({
      method: 'PUT',
      url: '/api/v1/org/mfa/methods',
      headers: withSession(token),
      payload: body,
    });
  return { ...testApp, ...seeded, adminToken, memberLogin, setMethods };
}

test('turning TOTP off leaves a TOTP-only user with "recovery_code" only, then enrollment under required', async (t) => {
  const { app, clock, memberLogin, setMethods } = await orgUnder('required');
  t.after(() => app.close());
  const enrolled = await enrollTotp(app, sessionCookieOf(await memberLogin()), clock);

  const changed = await setMethods({ totp: false, email: true });
  assert.equal(changed.statusCode, 200);
  assert.deepEqual(changed.json(), { methods: { totp: false, email: true } });

  const pending = await memberLogin();
  assert.deepEqual(pending.json(), { status: 'mfa_required', aal: 1, methods: ['recovery_code'] });
  // The authenticator app is no longer accepted, even with a right code.
  const totp = await verify(
    app,
    sessionCookieOf(pending),
    'totp',
    authenticatorCode(enrolled.secret, clock),
  );
  assert.equal(totp.statusCode, 401);
  const recovered = await verify(
    app,
    sessionCookieOf(pending),
    'recovery_code',
    enrolled.recoveryCodes[0] as string,
  );
  assert.equal(recovered.statusCode, 200);
  assert.deepEqual(recovered.json(), { status: 'enrollment_required', aal: 2 });
  const me = await app.inject({
    url: '/api/v1/me',
    headers: withSession(sessionCookieOf(recovered)),
  });
  assert.deepEqual(me.json().mfa.allowed_methods, ['email']);
});

test('turning a method back on restores the users’ factors of that method', async (t) => {
  const { app, clock, memberLogin, setMethods } = await orgUnder('enabled');
  t.after(() => app.close());
  await enrollTotp(app, sessionCookieOf(await memberLogin()), clock);
  await setMethods({ totp: false, email: true });
  await setMethods({ totp: true, email: true });
  assert.deepEqual((await memberLogin()).json().methods, ['totp', 'recovery_code']);
});

test('at least one method must stay on while MFA is on; with MFA off both may be off', async (t) => {
  const { app, org, setMethods } = await orgUnder('enabled');
  t.after(() => app.close());
  const refused = await setMethods({ totp: false, email: false });
  assert.equal(refused.statusCode, 409);
  assert.equal(refused.json().error, 'no_method_allowed');
  const row = await store.db
    .selectFrom('orgs')
    .selectAll()
    .where('id', '=', org.id)
    .executeTakeFirstOrThrow();
  assert.deepEqual(row.mfa_methods, ['totp', 'email']);

  const disabled = await orgUnder('disabled');
  t.after(() => disabled.app.close());
  assert.equal((await disabled.setMethods({ totp: false, email: false })).statusCode, 200);
  // And then MFA cannot be turned on until a method is allowed again.
  const strengthen = await disabled.app.inject({
    method: 'PUT',
    url: '/api/v1/org/mfa/policy',
    headers: withSession(disabled.adminToken),
    payload: { policy: 'enabled', sessions: 'keep' },
  });
  assert.equal(strengthen.statusCode, 409);
  assert.equal(strengthen.json().error, 'no_method_allowed');
});

test('an admin with MFA must step up to change the methods, and the code is consumed', async (t) => {
  const { app, clock, org, admin, adminToken, setMethods } = await orgUnder('enabled');
  t.after(() => app.close());
  const enrolled = await enrollTotp(app, adminToken, clock);
  const bare = await setMethods({ totp: true, email: false }, enrolled.token);
  assert.equal(bare.statusCode, 403);
  assert.equal(bare.json().error, 'verification_required');
  assert.deepEqual(bare.json().methods, ['totp', 'recovery_code']);

  const code = authenticatorCode(enrolled.secret, clock);
  const wrong = await setMethods(
    { totp: true, email: false, verification: { method: 'totp', code: '000000' } },
    enrolled.token,
  );
  assert.equal(wrong.statusCode, 401);
  const stepped = await setMethods(
    { totp: true, email: false, verification: { method: 'totp', code } },
    enrolled.token,
  );
  assert.equal(stepped.statusCode, 200);
  const reused = await setMethods(
    { totp: true, email: true, verification: { method: 'totp', code } },
    enrolled.token,
  );
  assert.equal(reused.statusCode, 401);

  const events = await store.db
    .selectFrom('audit_events')
    .select(['type', 'actor_user_id', 'details'])
    .where('org_id', '=', org.id)
    .where('type', '=', 'org.mfa_methods_changed')
    .execute();
  assert.deepEqual(events, [
    {
      type: 'org.mfa_methods_changed',
      actor_user_id: admin.id,
      details: { from: { totp: true, email: true }, to: { totp: true, email: false } },
    },
  ]);
});

test('members cannot change the methods', async (t) => {
  const { app, org, member, setMethods } = await orgUnder('enabled');
  t.after(() => app.close());
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const response = await setMethods({ totp: false, email: true }, token);
  assert.equal(response.statusCode, 403);
  assert.equal(response.json().error, 'forbidden');
});
