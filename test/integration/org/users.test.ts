import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

async function adminSession() {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  const token = await signIn(testApp.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  return { ...testApp, ...seeded, token };
}

test('an admin creates a user who can then sign in', async (t) => {
  const { app, org, token } = await adminSession();
  t.after(() => app.close());
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(token),
    payload: {
      email: 'New@Acme.test',
      name: 'New Person',
      role: 'member',
      password: 'a good long password',
    },
  });
  assert.equal(created.statusCode, 201);
  const { user } = created.json();
  assert.deepEqual(
    { email: user.email, name: user.name, role: user.role, sso: user.sso },
    { email: 'New@Acme.test', name: 'New Person', role: 'member', sso: false },
  );
  assert.equal('password_hash' in user, false);
  await signIn(app, { org: org.slug, email: 'new@acme.test', password: 'a good long password' });
});

test('emails are unique per org whatever their case, but may repeat across orgs', async (t) => {
  const { app, deps, token } = await adminSession();
  t.after(() => app.close());
  const payload = {
    email: 'dup@acme.test',
    name: 'Dup',
    role: 'member',
    password: 'a good long password',
  };
  const first = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(token),
    payload,
  });
  assert.equal(first.statusCode, 201);
  const second = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(token),
    payload: { ...payload, email: 'DUP@ACME.TEST' },
  });
  assert.equal(second.statusCode, 409);
  assert.equal(second.json().error, 'email_taken');

  const other = await seedOrg(deps);
  const otherToken = await signIn(app, {
    org: other.org.slug,
    email: other.admin.email,
    password: ADMIN_PASSWORD,
  });
  const elsewhere = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(otherToken),
    payload,
  });
  assert.equal(elsewhere.statusCode, 201);
});

test('weak passwords, bad emails and a password for an SSO user are refused with their codes', async (t) => {
  const { app, token } = await adminSession();
  t.after(() => app.close());
  const base = { email: 'x@acme.test', name: 'X', role: 'member' };
  const cases: [object, number, string][] = [
    [{ ...base, password: 'seven77' }, 400, 'weak_password'],
    [{ ...base, password: 'x'.repeat(257) }, 400, 'password_too_long'],
    [{ ...base, email: 'not-an-email', password: 'a good long password' }, 400, 'invalid_email'],
    [{ ...base, name: '   ', password: 'a good long password' }, 400, 'invalid_name'],
    [{ ...base, sso: true, password: 'a good long password' }, 400, 'invalid_request'],
    [base, 400, 'invalid_request'],
  ];
  for (const [payload, status, error] of cases) {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/org/users',
      headers: withSession(token),
      payload,
    });
    assert.equal(response.statusCode, status, JSON.stringify(payload));
    assert.equal(response.json().error, error, JSON.stringify(payload));
  }
  const rows = await store.db
    .selectFrom('users')
    .select('id')
    .where('email_key', '=', 'x@acme.test')
    .execute();
  assert.equal(rows.length, 0);
});

test('a member cannot create users', async (t) => {
  const { app, org, member } = await adminSession();
  t.after(() => app.close());
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(token),
    payload: { email: 'y@acme.test', name: 'Y', role: 'admin', password: 'a good long password' },
  });
  assert.equal(response.statusCode, 403);
  assert.equal(response.json().error, 'forbidden');
});

test('creating a user is audited with the acting admin', async (t) => {
  const { app, org, admin, token } = await adminSession();
  t.after(() => app.close());
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: { ...withSession(token), 'user-agent': 'test-agent' },
    payload: { email: 'z@acme.test', name: 'Z', role: 'member', password: 'a good long password' },
  });
  const event = await store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('org_id', '=', org.id)
    .where('type', '=', 'user.created')
    .where('target_user_id', '=', created.json().user.id)
    .executeTakeFirstOrThrow();
  assert.equal(event.actor_user_id, admin.id);
  assert.equal(event.user_agent, 'test-agent');
  assert.deepEqual(event.details, { role: 'member', sso: false });
});
