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
import { enrollTotp, setPolicy } from '../../helpers/mfa.ts';
import { manySessions, meStatuses } from '../../helpers/sessions.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

async function adminSignedIn() {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  const token = await signIn(testApp.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  return { ...testApp, ...seeded, token };
}

test('the policy starts disabled with both methods allowed', async (t) => {
  const { app, token } = await adminSignedIn();
  t.after(() => app.close());
  const response = await app.inject({ url: '/api/v1/org/mfa', headers: withSession(token) });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), {
    policy: 'disabled',
    methods: { totp: true, email: true },
    users_total: 2,
    users_enrolled: 0,
  });
});

test('enabling with "invalidate" ends every other session of the org, thousands at once', async (t) => {
  const { app, clock, org, admin, member, token } = await adminSignedIn();
  t.after(() => app.close());
  const memberTokens = await manySessions(store.db, org, [member], 2000, clock.now());
  const otherAdminTokens = await manySessions(store.db, org, [admin], 500, clock.now());
  const other = await seedOrg((await createTestApp(store)).deps);
  const outsider = await signIn(app, {
    org: other.org.slug,
    email: other.member.email,
    password: MEMBER_PASSWORD,
  });

  const response = await setPolicy(app, token, 'enabled', 'invalidate');
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), {
    policy: 'enabled',
    session: { status: 'enrollment_required' },
  });

  assert.deepEqual(await meStatuses(app, memberTokens), { 401: 2000 });
  assert.deepEqual(await meStatuses(app, otherAdminTokens), { 401: 500 });
  assert.deepEqual(await meStatuses(app, [token]), { 401: 1 });
  assert.deepEqual(await meStatuses(app, [outsider]), { 200: 1 });
  // The acting admin goes on in a new session, which must enroll first: whoever turns MFA on for
  // the org is held to it too.
  const adminNow = sessionCookieOf(response);
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(adminNow) });
  assert.deepEqual(me.json().session, { status: 'enrollment_required', aal: 1 });
  const blocked = await app.inject({ url: '/api/v1/org/mfa', headers: withSession(adminNow) });
  assert.equal(blocked.statusCode, 403);
  assert.equal(blocked.json().error, 'enrollment_required');
  const enrolled = await enrollTotp(app, adminNow, clock);
  const after = await app.inject({ url: '/api/v1/org/mfa', headers: withSession(enrolled.token) });
  assert.equal(after.statusCode, 200);
  assert.equal(after.json().users_enrolled, 1);
});

test('"keep" leaves every existing session running', async (t) => {
  const { app, clock, org, member, token } = await adminSignedIn();
  t.after(() => app.close());
  const memberTokens = await manySessions(store.db, org, [member], 1000, clock.now());
  const response = await setPolicy(app, token, 'required', 'keep');
  assert.equal(response.statusCode, 200);
  assert.deepEqual(await meStatuses(app, memberTokens), { 200: 1000 });
  // A member's next sign-in is the one that must enroll.
  const next = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: member.email, password: MEMBER_PASSWORD },
  });
  assert.equal(next.json().status, 'enrollment_required');
});

test('an enrolled admin stays fully signed in after strengthening', async (t) => {
  const { app, clock, org, token } = await adminSignedIn();
  t.after(() => app.close());
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', org.id)
    .execute();
  const enrolled = await enrollTotp(app, token, clock);
  const response = await setPolicy(app, enrolled.token, 'required', 'invalidate');
  assert.deepEqual(response.json(), { policy: 'required', session: { status: 'authenticated' } });
  const me = await app.inject({
    url: '/api/v1/me',
    headers: withSession(sessionCookieOf(response)),
  });
  assert.deepEqual(me.json().session, { status: 'authenticated', aal: 1 });
});

test('setting the policy it already has changes nothing and ends no session', async (t) => {
  const { app, org, token } = await adminSignedIn();
  t.after(() => app.close());
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', org.id)
    .execute();
  const response = await setPolicy(app, token, 'enabled', 'invalidate');
  assert.equal(response.statusCode, 200);
  assert.equal(response.cookies.length, 0);
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.equal(me.statusCode, 200);
});

test('weakening through this route answers 403 email_confirmation_required', async (t) => {
  const { app, org, token } = await adminSignedIn();
  t.after(() => app.close());
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', org.id)
    .execute();
  for (const policy of ['enabled', 'disabled']) {
    const response = await app.inject({
      method: 'PUT',
      url: '/api/v1/org/mfa/policy',
      headers: withSession(token),
      payload: { policy, sessions: 'keep' },
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error, 'email_confirmation_required');
  }
  const row = await store.db
    .selectFrom('orgs')
    .select('mfa_policy')
    .where('id', '=', org.id)
    .executeTakeFirstOrThrow();
  assert.equal(row.mfa_policy, 'required');
});

test('the sessions choice is required, and members cannot change the policy', async (t) => {
  const { app, org, member, token } = await adminSignedIn();
  t.after(() => app.close());
  const missing = await app.inject({
    method: 'PUT',
    url: '/api/v1/org/mfa/policy',
    headers: withSession(token),
    payload: { policy: 'enabled' },
  });
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.json().error, 'invalid_request');
  const memberToken = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const forbidden = await setPolicy(app, memberToken, 'enabled');
  assert.equal(forbidden.statusCode, 403);
  assert.equal(forbidden.json().error, 'forbidden');
});

test('policy changes are audited with the choice made', async (t) => {
  const { app, org, admin, token } = await adminSignedIn();
  t.after(() => app.close());
  await setPolicy(app, token, 'enabled', 'invalidate');
  const event = await store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('org_id', '=', org.id)
    .where('type', '=', 'org.mfa_policy_changed')
    .executeTakeFirstOrThrow();
  assert.equal(event.actor_user_id, admin.id);
  assert.deepEqual(event.details, { from: 'disabled', to: 'enabled', sessions: 'invalidate' });
});
