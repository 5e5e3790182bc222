import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptSecret } from '../../../src/core/secret-box.ts';
import { signingKeyAad } from '../../../src/services/provider/signing-keys.ts';
import { createTestApp, seedOrg } from '../../helpers/app.ts';
import { discover, listeningApp } from '../../helpers/provider.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Each org is an OpenID Provider of its own: issuer {PORTCULLIS_BASE_URL}/oidc/{slug}, its own
 * discovery document and signing keys.
 */

const store = useTestStore();

type Jwks = { keys: Record<string, unknown>[] };

test('an org’s issuer publishes its discovery document, with every endpoint below the issuer', async (t) => {
  const served = await listeningApp(store);
  t.after(() => served.close());
  const { org } = await seedOrg(served.deps);
  const issuer = served.issuerOf(org.slug);

  const metadata = (await discover(issuer, 'any-client')).serverMetadata();
  assert.equal(metadata.issuer, issuer);
  for (const endpoint of [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'introspection_endpoint',
    'revocation_endpoint',
    'end_session_endpoint',
  ] as const) {
    assert.ok(
      String(metadata[endpoint]).startsWith(`${issuer}/`),
      `${endpoint}: ${metadata[endpoint]}`,
    );
  }
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(metadata.response_types_supported, ['code']);
  assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['RS256']);
  assert.deepEqual(metadata.acr_values_supported, [
    'urn:portcullis:acr:1fa',
    'urn:portcullis:acr:mfa',
  ]);
});

test('the endpoints are those of PORTCULLIS_BASE_URL, whatever Host a request names', async (t) => {
  const served = await listeningApp(store);
  t.after(() => served.close());
  const { org } = await seedOrg(served.deps);
  const answer = await served.app.inject({
    url: `/oidc/${org.slug}/.well-known/openid-configuration`,
    headers: { host: 'attacker.example', 'x-forwarded-host': 'attacker.example' },
  });
  assert.equal(answer.statusCode, 200);
  assert.ok(!answer.body.includes('attacker.example'), answer.body);
  assert.equal(answer.json().token_endpoint, `${served.issuerOf(org.slug)}/token`);
});

test('an unknown org has no issuer', async (t) => {
  const { app } = await createTestApp(store);
  t.after(() => app.close());
  const answer = await app.inject({ url: '/oidc/no-such-org/.well-known/openid-configuration' });
  assert.equal(answer.statusCode, 404);
  assert.equal(answer.json().error, 'org_not_found');
});

test('each org signs with a key of its own, generated on first use, encrypted at rest and kept across restarts', async (t) => {
  const first = await createTestApp(store);
  t.after(() => first.close());
  const one = await seedOrg(first.deps);
  const other = await seedOrg(first.deps);
  const jwksOf = async (app: typeof first.app, slug: string) => {
    const answer = await app.inject({ url: `/oidc/${slug}/jwks` });
    assert.equal(answer.statusCode, 200, answer.body);
    return answer.json() as Jwks;
  };

  const oneKeys = await jwksOf(first.app, one.org.slug);
  assert.equal(oneKeys.keys.length, 1);
  const [published] = oneKeys.keys;
  assert.equal(published?.kty, 'RSA');
  assert.equal(published?.alg, 'RS256');
  assert.equal(published?.use, 'sig');
  for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
    assert.equal(published?.[privatePart], undefined, `no ${privatePart} in the JWKS`);
  }
  const otherKeys = await jwksOf(first.app, other.org.slug);
  assert.notEqual(otherKeys.keys[0]?.kid, published?.kid);

  const rows = await store.db
    .selectFrom('oidc_signing_keys')
    .selectAll()
    .where('org_id', '=', one.org.id)
    .execute();
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  assert.equal(row.kid, published?.kid);
  assert.ok(!row.private_jwk_ciphertext.includes('"d"'));
  const privateJwk = JSON.parse(
    Buffer.from(
      decryptSecret(
        first.deps.keys.encryption,
        row.private_jwk_ciphertext,
        signingKeyAad(one.org.id, row.kid),
      ),
    ).toString('utf8'),
  );
  assert.equal(privateJwk.n, published?.n);
  assert.equal(typeof privateJwk.d, 'string');
  assert.throws(() =>
    decryptSecret(
      first.deps.keys.encryption,
      row.private_jwk_ciphertext,
      signingKeyAad(other.org.id, row.kid),
    ),
  );

  // Another instance (same database and master key) publishes the same key.
  const second = await createTestApp(store);
  t.after(() => second.close());
  second.deps.keys = first.deps.keys;
  const again = await jwksOf(second.app, one.org.slug);
  assert.deepEqual(again, oneKeys);
});
