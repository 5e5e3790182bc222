import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashToken } from '../../../src/core/tokens.ts';
import { createPasswordHasher } from '../../../src/services/password/hasher.ts';
import {
  ADMIN_PASSWORD,
  cheapPasswordHasher,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

test('signing in sets an HttpOnly SameSite=Lax session cookie and /me answers', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: admin.email.toUpperCase(), password: ADMIN_PASSWORD },
  });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'authenticated', aal: 1, methods: [] });
  const cookie = response.cookies.find((c) => c.name === 'portcullis_session');
  assert.ok(cookie);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.path, '/');
  assert.equal(Buffer.from(cookie.value, 'base64url').length, 32);

  const me = await app.inject({ url: '/api/v1/me', headers: withSession(cookie.value) });
  assert.equal(me.statusCode, 200);
  const body = me.json();
  assert.equal(body.user.email, admin.email);
  assert.equal(body.user.role, 'admin');
  assert.deepEqual(body.user.org, { slug: org.slug, name: org.name });
  assert.deepEqual(body.session, { status: 'authenticated', aal: 1 });
  assert.deepEqual(body.mfa, {
    policy: 'disabled',
    allowed_methods: ['totp', 'email'],
    methods: [],
    recovery_codes_remaining: 0,
  });
});

test('the session token is stored only as its SHA-256', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const token = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  const rows = await store.db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', admin.id)
    .execute();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.token_hash, hashToken(token));
  assert.ok(!JSON.stringify(rows).includes(token));
});

test('over https the cookie is Secure and __Host- prefixed', async (t) => {
  const { app, deps } = await createTestApp(store, { baseUrl: 'https://id.example.test' });
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: admin.email, password: ADMIN_PASSWORD },
  });
  const cookie = response.cookies.find((c) => c.name === '__Host-portcullis_session');
  assert.ok(cookie);
  assert.equal(cookie.secure, true);
  assert.equal(response.headers['strict-transport-security'] !== undefined, true);
});

test('a cookie planted before sign-in is dead after it', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin, member } = await seedOrg(deps);
  // The attacker's own valid session, planted in the victim's browser.
  const planted = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: 'member password 42',
  });
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: withSession(planted),
    payload: { org: org.slug, email: admin.email, password: ADMIN_PASSWORD },
  });
  assert.equal(response.statusCode, 200);
  const fresh = sessionCookieOf(response);
  assert.notEqual(fresh, planted);
  const withPlanted = await app.inject({ url: '/api/v1/me', headers: withSession(planted) });
  assert.equal(withPlanted.statusCode, 401);
  const withFresh = await app.inject({ url: '/api/v1/me', headers: withSession(fresh) });
  assert.equal(withFresh.json().user.email, admin.email);
});

test('logout ends the session and clears the cookie', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const token = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  const out = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: withSession(token),
  });
  assert.equal(out.statusCode, 204);
  const cleared = out.cookies.find((c) => c.name === 'portcullis_session');
  assert.equal(cleared?.value, '');
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.equal(me.statusCode, 401);
  assert.deepEqual(me.json(), { error: 'unauthenticated', message: 'Sign in first.' });
});

test('unknown org, unknown user and wrong password get byte-identical 401 answers', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const attempts = [
    { org: 'no-such-org', email: admin.email, password: ADMIN_PASSWORD },
    { org: org.slug, email: 'nobody@example.test', password: ADMIN_PASSWORD },
    { org: org.slug, email: admin.email, password: 'wrong password!' },
  ];
  const bodies = [];
  for (const payload of attempts) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
    assert.equal(response.statusCode, 401);
    assert.equal(response.cookies.length, 0);
    bodies.push(response.rawPayload.toString('hex'));
  }
  assert.equal(new Set(bodies).size, 1);
  assert.deepEqual(JSON.parse(Buffer.from(bodies[0] ?? '', 'hex').toString()), {
    error: 'invalid_credentials',
    message: 'The organization, email or password is incorrect.',
  });
});

test('an unknown account costs a password hash, like a known one', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  let verifications = 0;
  const passwords = deps.passwords;
  deps.passwords = {
    ...passwords,
    verify: (hash, password) => {
      verifications += 1;
      return passwords.verify(hash, password);
    },
    verifyDummy: (password) => {
      verifications += 1;
      return passwords.verifyDummy(password);
    },
  };
  for (const payload of [
    { org: 'no-such-org', email: admin.email, password: 'x'.repeat(12) },
    { org: org.slug, email: 'nobody@example.test', password: 'x'.repeat(12) },
    { org: org.slug, email: admin.email, password: 'x'.repeat(12) },
  ]) {
    await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
  }
  assert.equal(verifications, 3);
});

test('an SSO user cannot sign in with a password', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const token = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(token),
    payload: { email: 'sso@corp.test', name: 'Sam SSO', role: 'member', sso: true },
  });
  assert.equal(created.statusCode, 201);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: 'sso@corp.test', password: 'anything at all' },
  });
  assert.equal(response.statusCode, 401);
  assert.equal(response.json().error, 'invalid_credentials');
});

test('a session expires after an hour idle and after 24 hours in all', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const credentials = { org: org.slug, email: admin.email, password: ADMIN_PASSWORD };

  const idle = await signIn(app, credentials);
  clock.advanceSeconds(59 * 60);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(idle) })).statusCode,
    200,
  );
  clock.advanceSeconds(59 * 60);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(idle) })).statusCode,
    200,
  );
  clock.advanceSeconds(60 * 60);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(idle) })).statusCode,
    401,
  );

  const busy = await signIn(app, credentials);
  for (let hour = 0; hour < 23; hour += 1) {
    clock.advanceSeconds(50 * 60);
    assert.equal(
      (await app.inject({ url: '/api/v1/me', headers: withSession(busy) })).statusCode,
      200,
    );
  }
  clock.advanceSeconds(5 * 3600);
  assert.equal(
    (await app.inject({ url: '/api/v1/me', headers: withSession(busy) })).statusCode,
    401,
  );
});

test('signing in with weaker stored parameters rehashes the password', async (t) => {
  const { app, deps } = await createTestApp(store, { passwords: await createPasswordHasher() });
  t.after(() => app.close());
  // The account was made when the parameters were weaker.
  const { org, admin } = await seedOrg({ ...deps, passwords: await cheapPasswordHasher() });
  const storedHash = () =>
    store.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', admin.id)
      .executeTakeFirstOrThrow();
  assert.ok((await storedHash()).password_hash?.includes('$m=1024,t=1,p=1$'));
  await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  assert.ok((await storedHash()).password_hash?.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'));
  await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
});
