import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../../../src/services/org/accounts.ts';
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

async function adminOf(policy: 'enabled' | 'required' = 'enabled') {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  const token = await signIn(testApp.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', seeded.org.id)
    .execute();
  const list = (query = '') =>
    testApp.app.inject({ url: `/api/v1/org/users${query}`, headers: withSession(token) });
  const memberLogin = () =>
    testApp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email: seeded.member.email, password: MEMBER_PASSWORD },
    });
  return { ...testApp, ...seeded, token, list, memberLogin };
}

async function addUsers(
  deps: Awaited<ReturnType<typeof adminOf>>['deps'],
  org: Awaited<ReturnType<typeof adminOf>>['org'],
  prefix: string,
  count: number,
  sso = false,
) {
  for (let i = 0; i < count; i += 1) {
    const created = await createUser(
      deps,
      org,
      {
        email: `${prefix}${i}@example.test`,
        name: `${prefix} ${i}`,
        role: 'member',
        password: sso ? null : 'a fine long password',
      },
      { userId: null, origin: null },
    );
    assert.ok(created.ok);
  }
}

test('the users list shows Enrolled, Not Enrolled and SSO, and filters on them', async (t) => {
  const { app, deps, clock, org, admin, member, token, list, memberLogin } = await adminOf();
  t.after(() => app.close());
  await enrollTotp(app, sessionCookieOf(await memberLogin()), clock);
  await addUsers(deps, org, 'sso', 1, true);

  const all = await list();
  assert.equal(all.statusCode, 200);
  const statuses = Object.fromEntries(
    all.json().users.map((u: { email: string; mfa: string }) => [u.email, u.mfa]),
  );
  assert.deepEqual(statuses, {
    [admin.email]: 'not_enrolled',
    [member.email]: 'enrolled',
    'sso0@example.test': 'sso',
  });
  assert.equal(all.json().next_cursor, null);
  const emailsOf = async (filter: string) =>
    (await list(`?mfa=${filter}`)).json().users.map((u: { email: string }) => u.email);
  assert.deepEqual(await emailsOf('enrolled'), [member.email]);
  assert.deepEqual(await emailsOf('not_enrolled'), [admin.email]);
  assert.deepEqual(await emailsOf('sso'), ['sso0@example.test']);

  const summary = await app.inject({ url: '/api/v1/org/mfa', headers: withSession(token) });
  assert.deepEqual([summary.json().users_total, summary.json().users_enrolled], [3, 1]);
});

test('pages have no duplicates or gaps while users are added', async (t) => {
  const { app, deps, clock, org, list } = await adminOf();
  t.after(() => app.close());
  await addUsers(deps, org, 'early', 23);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list(`?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.statusCode, 200);
    const users: { email: string }[] = page.json().users;
    assert.ok(users.length <= 5);
    seen.push(...users.map((u) => u.email));
    cursor = page.json().next_cursor;
    pages += 1;
    // New users arrive between page reads.
    clock.advanceSeconds(1);
    await addUsers(deps, org, `late${pages}-`, 1);
  } while (cursor && pages < 50);
  assert.equal(new Set(seen).size, seen.length, 'a user was listed twice');
  for (let i = 0; i < 23; i += 1)
    assert.ok(seen.includes(`early${i}@example.test`), `early${i} missing`);
  assert.ok(seen.includes('admin@' + org.slug + '.test'));
});

test('a cursor that is not ours is refused with 400 invalid_cursor', async (t) => {
  const { app, list } = await adminOf();
  t.after(() => app.close());
  for (const cursor of [
    'garbage',
    Buffer.from('["x","y"]').toString('base64url'),
    Buffer.from('[1,2,3]').toString('base64url'),
  ]) {
    const response = await list(`?cursor=${cursor}`);
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_cursor');
  }
  assert.equal((await list('?limit=abc')).statusCode, 400);
  assert.equal((await list('?mfa=maybe')).statusCode, 400);
});

test('Reset MFA: factors gone, old sessions 401, user emailed, next sign-in enrolls again', async (t) => {
  const { app, clock, mailer, org, admin, member, memberLogin } = await adminOf('required');
  t.after(() => app.close());
  const enrolled = await enrollTotp(app, sessionCookieOf(await memberLogin()), clock);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(enrolled.token) })).statusCode,
    200,
  );
  // The admin must be enrolled under required to use admin routes: enroll, then reset.
  const adminLogin = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: admin.email, password: ADMIN_PASSWORD },
  });
  const adminEnrolled = await enrollTotp(app, sessionCookieOf(adminLogin), clock);

  const reset = (body: object) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/org/users/${member.id}/mfa/reset`,
      headers: withSession(adminEnrolled.token),
      payload: body,
    });
  const bare = await reset({});
  assert.equal(bare.statusCode, 403);
  assert.equal(bare.json().error, 'verification_required');
  const done = await reset({
    verification: { method: 'totp', code: authenticatorCode(adminEnrolled.secret, clock) },
  });
  assert.equal(done.statusCode, 204);

  const left = await store.db
    .selectFrom('factors')
    .select('id')
    .where('user_id', '=', member.id)
    .execute();
  const codes = await store.db
    .selectFrom('recovery_codes')
    .select('id')
    .where('user_id', '=', member.id)
    .execute();
  assert.deepEqual([left.length, codes.length], [0, 0]);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(enrolled.token) })).statusCode,
    401,
  );
  assert.match(mailer.lastTo(member.email).subject, /multi-factor authentication was reset/);
  assert.deepEqual((await memberLogin()).json(), {
    status: 'enrollment_required',
    aal: 1,
    methods: [],
  });
  // The users list and the counts follow at once.
  const listed = await app.inject({
    url: '/api/v1/org/users?mfa=enrolled',
    headers: withSession(adminEnrolled.token),
  });
  assert.deepEqual(
    listed.json().users.map((u: { email: string }) => u.email),
    [admin.email],
  );
  const counts = await app.inject({
    url: '/api/v1/org/mfa',
    headers: withSession(adminEnrolled.token),
  });
  assert.equal(counts.json().users_enrolled, 1);

  const event = await store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('org_id', '=', org.id)
    .where('type', '=', 'mfa.reset')
    .executeTakeFirstOrThrow();
  assert.equal(event.actor_user_id, admin.id);
  assert.equal(event.target_user_id, member.id);
  assert.deepEqual(event.details, { factors: 1, recovery_codes: 10 });
});

test('Reset MFA of another org’s user answers 404 and changes nothing', async (t) => {
  const { app, deps, clock, token } = await adminOf();
  t.after(() => app.close());
  const other = await seedOrg(deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', other.org.id)
    .execute();
  const otherToken = await signIn(app, {
    org: other.org.slug,
    email: other.member.email,
    password: MEMBER_PASSWORD,
  });
  await enrollTotp(app, otherToken, clock);
  for (const id of [other.member.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/org/users/${id}/mfa/reset`,
      headers: withSession(token),
      payload: {},
    });
    assert.equal(response.statusCode, 404, id);
    assert.equal(response.json().error, 'not_found');
  }
  const left = await store.db
    .selectFrom('factors')
    .select('id')
    .where('user_id', '=', other.member.id)
    .execute();
  assert.equal(left.length, 1);
});

test('Reset MFA does not apply to SSO users, nor to the admin’s own account', async (t) => {
  const { app, deps, org, admin, token } = await adminOf();
  t.after(() => app.close());
  await addUsers(deps, org, 'sso', 1, true);
  const sso = await store.db
    .selectFrom('users')
    .select('id')
    .where('org_id', '=', org.id)
    .where('sso', '=', true)
    .executeTakeFirstOrThrow();
  const resetOf = (id: string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/org/users/${id}/mfa/reset`,
      headers: withSession(token),
      payload: {},
    });
  const ssoAnswer = await resetOf(sso.id);
  assert.equal(ssoAnswer.statusCode, 409);
  assert.equal(ssoAnswer.json().error, 'sso_user');
  const own = await resetOf(admin.id);
  assert.equal(own.statusCode, 403);
  assert.equal(own.json().error, 'own_account');
});

test('a recovery code used at sign-in emails the user how many remain, with a warning at 2', async (t) => {
  const { app, clock, mailer, member, memberLogin } = await adminOf('required');
  t.after(() => app.close());
  const enrolled = await enrollTotp(app, sessionCookieOf(await memberLogin()), clock);
  assert.match(mailer.lastTo(member.email).subject, /Authenticator App verification turned on/);
  for (let used = 1; used <= 8; used += 1) {
    const answer = await verify(
      app,
      sessionCookieOf(await memberLogin()),
      'recovery_code',
      enrolled.recoveryCodes[used - 1] as string,
    );
    assert.equal(answer.statusCode, 200);
    const text = mailer.lastTo(member.email).text;
    assert.match(text, new RegExp(`${10 - used} of 10 remain`));
    assert.equal(/running out of recovery codes/.test(text), 10 - used <= 2, `after ${used} used`);
  }
});
