import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { decryptSecret } from '../../../src/core/secret-box.ts';
import { appSecretAad } from '../../../src/services/provider/app-adapter.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Settings → Apps: an org's admins register the applications that sign their users in through the
 * org's issuer, by API: register, list, change, rotate the secret, remove.
 */

const store = useTestStore();

const APP = {
  name: 'Wiki',
  redirect_uris: ['https://wiki.example.com/oidc/callback', 'http://127.0.0.1:8080/cb'],
  post_logout_redirect_uris: ['https://wiki.example.com/'],
};

async function adminOf(t: { after(fn: () => unknown): void }) {
  const testApp = await createTestApp(store);
  t.after(() => testApp.close());
  const seeded = await seedOrg(testApp.deps);
  const adminToken = await signIn(testApp.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  return { ...testApp, ...seeded, adminToken };
}

function call(
  app: FastifyInstance,
  token: string,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: object,
) {
  return app.inject({
    method,
    url: `/api/v1${url}`,
    headers: withSession(token),
    ...(payload ? { payload } : {}),
  });
}

async function appRow(clientId: string) {
  return store.db
    .selectFrom('oidc_apps')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

test('an admin registers a confidential app: the secret is shown once and kept only encrypted', async (t) => {
  const { app, deps, org, adminToken } = await adminOf(t);
  const created = await call(app, adminToken, 'POST', '/org/apps', APP);
  assert.equal(created.statusCode, 201, created.body);
  const { client_id, client_secret } = created.json();
  assert.match(client_id, /^[\w-]{22}$/);
  assert.match(client_secret, /^[\w-]{43}$/);

  const row = (await appRow(client_id))!;
  assert.equal(row.org_id, org.id);
  assert.equal(row.public, false);
  assert.ok(!row.client_secret_ciphertext!.includes(client_secret));
  const decrypted = decryptSecret(
    deps.keys.encryption,
    row.client_secret_ciphertext!,
    appSecretAad(org.id, client_id),
  );
  assert.equal(Buffer.from(decrypted).toString('utf8'), client_secret);

  const listed = await call(app, adminToken, 'GET', '/org/apps');
  assert.equal(listed.statusCode, 200);
  assert.deepEqual(listed.json().apps, [
    {
      client_id,
      ...APP,
      backchannel_logout_uri: null,
      public: false,
      created_at: deps.clock.now().toISOString(),
      updated_at: deps.clock.now().toISOString(),
    },
  ]);
  assert.ok(!listed.body.includes(client_secret));
  const one = await call(app, adminToken, 'GET', `/org/apps/${client_id}`);
  assert.deepEqual(one.json(), listed.json().apps[0]);

  const events = await store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('org_id', '=', org.id)
    .where('type', '=', 'org.app_registered')
    .execute();
  assert.equal(events.length, 1);
  assert.equal(events[0]!.details.client_id, client_id);
  assert.ok(!JSON.stringify(events).includes(client_secret));
});

test('a public app has no secret, and none to rotate', async (t) => {
  const { app, adminToken } = await adminOf(t);
  const created = await call(app, adminToken, 'POST', '/org/apps', { ...APP, public: true });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().client_secret, null);
  const { client_id } = created.json();
  assert.equal((await appRow(client_id))!.client_secret_ciphertext, null);
  const rotated = await call(app, adminToken, 'POST', `/org/apps/${client_id}/secret`, {});
  assert.equal(rotated.statusCode, 409);
  assert.equal(rotated.json().error, 'app_is_public');
});

test('redirect URIs are https, or http on a loopback address, without fragments', async (t) => {
  const { app, adminToken } = await adminOf(t);
  for (const redirect_uris of [
    ['http://wiki.example.com/cb'],
    ['https://wiki.example.com/cb#top'],
    ['javascript:alert(1)'],
    ['wiki.example.com/cb'],
  ]) {
    const answer = await call(app, adminToken, 'POST', '/org/apps', { ...APP, redirect_uris });
    assert.equal(answer.statusCode, 400, redirect_uris[0]);
    assert.equal(answer.json().error, 'invalid_redirect_uri');
  }
  for (const other of [
    { post_logout_redirect_uris: ['http://wiki.example.com/'] },
    { backchannel_logout_uri: 'http://wiki.example.com/logout' },
  ]) {
    const answer = await call(app, adminToken, 'POST', '/org/apps', { ...APP, ...other });
    assert.equal(answer.json().error, 'invalid_redirect_uri', JSON.stringify(other));
  }
  const none = await call(app, adminToken, 'POST', '/org/apps', { ...APP, redirect_uris: [] });
  assert.equal(none.statusCode, 400);
  const blank = await call(app, adminToken, 'POST', '/org/apps', { ...APP, name: '  ' });
  assert.equal(blank.json().error, 'invalid_name');
  assert.equal((await call(app, adminToken, 'GET', '/org/apps')).json().apps.length, 0);
});

test('an admin changes an app, replaces its secret and removes it', async (t) => {
  const { app, deps, clock, org, adminToken } = await adminOf(t);
  const { client_id, client_secret } = (
    await call(app, adminToken, 'POST', '/org/apps', APP)
  ).json();
  clock.advanceSeconds(60);

  const changed = await call(app, adminToken, 'PUT', `/org/apps/${client_id}`, {
    name: 'Team wiki',
    redirect_uris: ['https://wiki.example.com/new-callback'],
    backchannel_logout_uri: 'https://wiki.example.com/backchannel',
  });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.deepEqual(
    { ...(changed.json() as object), created_at: undefined },
    {
      client_id,
      name: 'Team wiki',
      redirect_uris: ['https://wiki.example.com/new-callback'],
      post_logout_redirect_uris: [],
      backchannel_logout_uri: 'https://wiki.example.com/backchannel',
      public: false,
      created_at: undefined,
      updated_at: deps.clock.now().toISOString(),
    },
  );

  const rotated = await call(app, adminToken, 'POST', `/org/apps/${client_id}/secret`, {});
  assert.equal(rotated.statusCode, 200, rotated.body);
  const fresh = rotated.json().client_secret;
  assert.notEqual(fresh, client_secret);
  const row = (await appRow(client_id))!;
  assert.equal(
    Buffer.from(
      decryptSecret(
        deps.keys.encryption,
        row.client_secret_ciphertext!,
        appSecretAad(org.id, client_id),
      ),
    ).toString('utf8'),
    fresh,
  );

  const removed = await call(app, adminToken, 'POST', `/org/apps/${client_id}/remove`, {});
  assert.equal(removed.statusCode, 204, removed.body);
  assert.equal(await appRow(client_id), undefined);
  assert.equal((await call(app, adminToken, 'GET', `/org/apps/${client_id}`)).statusCode, 404);
  const types = await store.db
    .selectFrom('audit_events')
    .select('type')
    .where('org_id', '=', org.id)
    .where('type', 'like', 'org.app_%')
    .orderBy('created_at')
    .execute();
  assert.deepEqual(
    types.map((e) => e.type).sort(),
    ['org.app_registered', 'org.app_removed', 'org.app_secret_rotated', 'org.app_updated'].sort(),
  );
});

test('members cannot manage apps, and another org’s admin finds none of them', async (t) => {
  const { app, deps, org, member, adminToken } = await adminOf(t);
  const { client_id } = (await call(app, adminToken, 'POST', '/org/apps', APP)).json();
  const memberToken = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  for (const [method, url] of [
    ['GET', '/org/apps'],
    ['POST', '/org/apps'],
  ] as const) {
    const answer = await call(app, memberToken, method, url, method === 'POST' ? APP : undefined);
    assert.equal(answer.statusCode, 403, `${method} ${url}`);
  }

  const other = await seedOrg(deps);
  const otherAdmin = await signIn(app, {
    org: other.org.slug,
    email: other.admin.email,
    password: ADMIN_PASSWORD,
  });
  assert.deepEqual((await call(app, otherAdmin, 'GET', '/org/apps')).json(), { apps: [] });
  for (const [method, url, payload] of [
    ['GET', `/org/apps/${client_id}`, undefined],
    ['PUT', `/org/apps/${client_id}`, APP],
    ['POST', `/org/apps/${client_id}/secret`, {}],
    ['POST', `/org/apps/${client_id}/remove`, {}],
  ] as const) {
    const answer = await call(app, otherAdmin, method, url, payload);
    assert.equal(answer.statusCode, 404, `${method} ${url}`);
  }
  assert.equal((await appRow(client_id))!.name, APP.name);
});

test('with MFA on, registering an app asks for a fresh second factor', async (t) => {
  const { app, clock, org, adminToken: signedIn } = await adminOf(t);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', org.id)
    .execute();
  const { secret, token: adminToken } = await enrollTotp(app, signedIn, clock);
  const asked = await call(app, adminToken, 'POST', '/org/apps', APP);
  assert.equal(asked.statusCode, 403);
  assert.equal(asked.json().error, 'verification_required');
  assert.equal(asked.json().action, 'register_app');
  assert.equal(
    await store.db
      .selectFrom('oidc_apps')
      .select('client_id')
      .where('org_id', '=', org.id)
      .executeTakeFirst(),
    undefined,
  );
  const verified = await call(app, adminToken, 'POST', '/org/apps', {
    ...APP,
    verification: { method: 'totp', code: authenticatorCode(secret, clock) },
  });
  assert.equal(verified.statusCode, 201, verified.body);
});
