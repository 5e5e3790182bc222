import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import {
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  withSession,
} from '../../helpers/app.ts';
import { enrollTotp } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

/** Routes anyone may call, signed in or not. */
const PUBLIC = new Set([
  'GET /api/v1/setup',
  'POST /api/v1/setup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'GET /api/v1/auth/sso/{org}',
  'GET /api/v1/auth/sso/{org}/start',
  'GET /api/v1/auth/sso/callback',
]);
/** What a session waiting for its second factor may reach. */
const MFA_PENDING_ALLOWED = new Set([
  'POST /api/v1/auth/mfa/verify',
  'GET /api/v1/me',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/verification/{method}',
]);
/** What a session that must enroll may reach: the above, plus the enrollment itself. */
const ENROLLMENT_ALLOWED = new Set([
  ...MFA_PENDING_ALLOWED,
  'POST /api/v1/me/mfa/totp/setup',
  'POST /api/v1/me/mfa/totp/confirm',
  'POST /api/v1/me/mfa/email/setup',
  'POST /api/v1/me/mfa/email/confirm',
]);

/** Every API route, read from the OpenAPI document, so that a new route is walked too. */
async function everyRoute(
  app: FastifyInstance,
): Promise<{ method: string; path: string; url: string }[]> {
  const document = (await app.inject({ url: '/api/v1/openapi.json' })).json();
  const routes = [];
  for (const [path, operations] of Object.entries(document.paths as Record<string, object>)) {
    for (const method of Object.keys(operations)) {
      const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      routes.push({ method: method.toUpperCase(), path, url });
    }
  }
  return routes;
}

async function walk(app: FastifyInstance, token: string, allowed: Set<string>) {
  const refused: string[] = [];
  const reached: string[] = [];
  for (const { method, path, url } of await everyRoute(app)) {
    const key = `${method} ${url}`;
    const route = `${method} ${path}`;
    if (PUBLIC.has(route) || PUBLIC.has(key) || allowed.has(route) || allowed.has(key)) continue;
    if (key === 'POST /api/v1/auth/logout') continue;
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: withSession(token),
      ...(method === 'GET' ? {} : { payload: {} }),
    });
    if ([401, 403].includes(response.statusCode)) refused.push(key);
    else reached.push(`${key} → ${response.statusCode}`);
  }
  return { refused, reached };
}

async function memberUnder(policy: 'enabled' | 'required') {
  const testApp = await createTestApp(store);
  const seeded = await seedOrg(testApp.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', seeded.org.id)
    .execute();
  const login = async () =>
    testApp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email: seeded.member.email, password: MEMBER_PASSWORD },
    });
  return { ...testApp, ...seeded, login };
}

test('a session waiting for its second factor reaches nothing protected', async (t) => {
  const { app, clock, login } = await memberUnder('required');
  t.after(() => app.close());
  await enrollTotp(app, sessionCookieOf(await login()), clock);
  const pending = await login();
  assert.equal(pending.json().status, 'mfa_required');
  const { refused, reached } = await walk(app, sessionCookieOf(pending), MFA_PENDING_ALLOWED);
  assert.deepEqual(reached, []);
  assert.ok(refused.length >= 5, `only ${refused.length} routes walked`);
  assert.ok(refused.includes('POST /api/v1/me/mfa/totp/setup'));
  assert.ok(refused.includes('GET /api/v1/org/mfa'));
});

test('a session that must enroll reaches nothing but the enrollment', async (t) => {
  const { app, login } = await memberUnder('required');
  t.after(() => app.close());
  const pending = await login();
  assert.equal(pending.json().status, 'enrollment_required');
  const { refused, reached } = await walk(app, sessionCookieOf(pending), ENROLLMENT_ALLOWED);
  assert.deepEqual(reached, []);
  assert.ok(refused.includes('POST /api/v1/org/users'));
  assert.ok(refused.includes('PUT /api/v1/org/mfa/policy'));
});

test('an admin waiting for a second factor cannot use admin routes', async (t) => {
  const testApp = await createTestApp(store);
  t.after(() => testApp.app.close());
  const { org, admin } = await seedOrg(testApp.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', org.id)
    .execute();
  const pending = await testApp.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: admin.email, password: 'correct horse battery staple' },
  });
  const { reached } = await walk(testApp.app, sessionCookieOf(pending), ENROLLMENT_ALLOWED);
  assert.deepEqual(reached, []);
});
