import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issueSetupTokenIfEmpty } from '../../../src/services/org/setup.ts';
import { createTestApp, sessionCookieOf, withSession } from '../../helpers/app.ts';
import { openTestStore } from '../../helpers/store.ts';

const firstOrg = (token: string, slug = 'acme') => ({
  token,
  org: { slug, name: 'Acme' },
  admin: { email: 'ada@acme.test', name: 'Ada', password: 'correct horse battery staple' },
});

test('the setup link creates the first org and admin once, then setup is closed', async (t) => {
  const store = await openTestStore();
  t.after(() => store.dispose());
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());

  assert.deepEqual((await app.inject({ url: '/api/v1/setup' })).json(), { open: true });
  const token = await issueSetupTokenIfEmpty(deps);
  assert.ok(token);
  const stored = await store.db.selectFrom('setup_tokens').selectAll().execute();
  assert.equal(stored.length, 1);
  assert.notEqual(stored[0]?.token_hash, token);

  const wrong = await app.inject({
    method: 'POST',
    url: '/api/v1/setup',
    payload: firstOrg('nope'),
  });
  assert.equal(wrong.statusCode, 403);
  assert.equal(wrong.json().error, 'invalid_setup_token');

  // Bad input is refused without burning the link.
  const weak = await app.inject({
    method: 'POST',
    url: '/api/v1/setup',
    payload: { ...firstOrg(token), admin: { ...firstOrg(token).admin, password: 'short' } },
  });
  assert.equal(weak.statusCode, 400);
  assert.equal(weak.json().error, 'weak_password');

  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/setup',
    payload: firstOrg(token),
  });
  assert.equal(created.statusCode, 201);
  assert.deepEqual(created.json(), { org: { slug: 'acme', name: 'Acme' } });
  const me = await app.inject({
    url: '/api/v1/me',
    headers: withSession(sessionCookieOf(created)),
  });
  assert.equal(me.json().user.role, 'admin');

  const again = await app.inject({
    method: 'POST',
    url: '/api/v1/setup',
    payload: firstOrg(token, 'other'),
  });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error, 'setup_complete');
  assert.deepEqual((await app.inject({ url: '/api/v1/setup' })).json(), { open: false });
  assert.equal(await issueSetupTokenIfEmpty(deps), null);
  assert.equal((await store.db.selectFrom('setup_tokens').selectAll().execute()).length, 0);
});

test('two setup links used at once create exactly one org', async (t) => {
  const store = await openTestStore();
  t.after(() => store.dispose());
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const tokens = [await issueSetupTokenIfEmpty(deps), await issueSetupTokenIfEmpty(deps)];
  const answers = await Promise.all(
    tokens.map((token, i) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/setup',
        payload: firstOrg(token ?? '', `org-${i}`),
      }),
    ),
  );
  assert.deepEqual(answers.map((a) => a.statusCode).sort(), [201, 409]);
  assert.equal((await store.db.selectFrom('orgs').selectAll().execute()).length, 1);
});
