import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, createTestApp, seedOrg, signIn, withSession } from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

test('a NUL in a path parameter answers 400 invalid_request, never a 500', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const token = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  const requests = [
    { method: 'GET' as const, url: '/api/v1/auth/sso/%00' },
    { method: 'GET' as const, url: `/api/v1/auth/sso/${org.slug}%00/start` },
    { method: 'POST' as const, url: '/api/v1/org/users/a%00b/mfa/reset', payload: {} },
  ];
  for (const request of requests) {
    const response = await app.inject({ ...request, headers: withSession(token) });
    assert.equal(response.statusCode, 400, `${request.url}: ${response.body}`);
    assert.equal(response.json().error, 'invalid_request');
  }
});
