import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptSecret } from '../../../src/core/secret-box.ts';
import { clientSecretAad } from '../../../src/services/sso/client.ts';
import { withSession } from '../../helpers/app.ts';
import { CALLBACK_URL, useSsoTestbed } from '../../helpers/sso.ts';

/*
 * How an admin connects the org to its identity provider, and what exists before that.
 */

const { store, idp, ssoOrg } = useSsoTestbed();

test('an admin configures the connection: the secret is never shown and is stored encrypted; test and discovery work', async (t) => {
  const { app, deps, org, adminToken, slug, audit, configureSso } = await ssoOrg();
  t.after(() => app.close());

  const settings = await app.inject({ url: '/api/v1/org/sso', headers: withSession(adminToken) });
  assert.equal(settings.statusCode, 200);
  assert.deepEqual(settings.json(), {
    issuer: idp.issuer,
    client_id: idp.clientId,
    allowed_domains: [],
    create_users: false,
    redirect_uri: CALLBACK_URL,
    start_url: `/api/v1/auth/sso/${slug}/start`,
  });
  assert.ok(!settings.body.includes(idp.clientSecret));

  const row = await store.db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', org.id)
    .executeTakeFirstOrThrow();
  assert.ok(!row.client_secret_ciphertext.includes(idp.clientSecret));
  assert.ok(
    !row.client_secret_ciphertext.includes(Buffer.from(idp.clientSecret).toString('base64')),
  );
  const decrypted = decryptSecret(
    deps.keys.encryption,
    row.client_secret_ciphertext,
    clientSecretAad(org.id),
  );
  assert.equal(Buffer.from(decrypted).toString('utf8'), idp.clientSecret);
  const configured = await audit('org.sso_configured');
  assert.equal(configured.length, 1);
  assert.ok(!JSON.stringify(configured).includes(idp.clientSecret));

  const tested = await app.inject({
    method: 'POST',
    url: '/api/v1/org/sso/test',
    headers: withSession(adminToken),
  });
  assert.equal(tested.statusCode, 200, tested.body);
  assert.deepEqual(tested.json(), { issuer: idp.issuer });

  // Saved again without a secret (and with a trailing slash): the stored secret stays and works.
  const resaved = await configureSso({ issuer: `${idp.issuer}/`, client_secret: undefined });
  assert.equal(resaved.statusCode, 204, resaved.body);
  const again = await store.db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', org.id)
    .executeTakeFirstOrThrow();
  assert.equal(again.issuer, idp.issuer);
  assert.equal(again.client_secret_ciphertext, row.client_secret_ciphertext);
  const retested = await app.inject({
    method: 'POST',
    url: '/api/v1/org/sso/test',
    headers: withSession(adminToken),
  });
  assert.equal(retested.statusCode, 200);
  // Plain http only for a provider on this machine.
  const insecure = await configureSso({ issuer: 'http://idp.example.com' });
  assert.equal(insecure.statusCode, 400);
  assert.equal(insecure.json().error, 'invalid_issuer');

  const offered = await app.inject({ url: `/api/v1/auth/sso/${slug}` });
  assert.equal(offered.statusCode, 200);
  assert.equal(offered.json().enabled, true);
  const unknown = await app.inject({ url: `/api/v1/auth/sso/no-such-org-${slug}` });
  assert.equal(unknown.json().enabled, false);
});

test('without a connection there is nothing to start and nobody to convert', async (t) => {
  const { app, member, slug, adminToken } = await ssoOrg({ configure: false });
  t.after(() => app.close());
  const started = await app.inject({ url: `/api/v1/auth/sso/${slug}/start` });
  assert.equal(started.statusCode, 404);
  assert.equal(started.json().error, 'sso_not_configured');
  assert.equal((await app.inject({ url: `/api/v1/auth/sso/${slug}` })).json().enabled, false);
  const converted = await app.inject({
    method: 'POST',
    url: `/api/v1/org/users/${member.id}/convert-to-sso`,
    headers: withSession(adminToken),
  });
  assert.equal(converted.statusCode, 404);
  assert.equal(converted.json().error, 'sso_not_configured');
});
