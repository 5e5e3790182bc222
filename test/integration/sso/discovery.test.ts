import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSO_DISCOVERY_CACHE_SECONDS } from '../../../src/core/limits.ts';
import { ADMIN_PASSWORD, createTestApp, seedOrg, signIn, withSession } from '../../helpers/app.ts';
import { ManualClock } from '../../helpers/clock.ts';
import { useTestIdentityProvider } from '../../helpers/sso.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Where the server fetches an identity provider's discovery document, and how often: the issuer
 * and the endpoints the document names pass the address rule, and sign-ins reuse the document
 * for SSO_DISCOVERY_CACHE_SECONDS instead of fetching it on every anonymous /start.
 */

const APP_URL = 'http://portcullis.test';

const store = useTestStore();
const idp = useTestIdentityProvider({ redirectUris: [`${APP_URL}/api/v1/auth/sso/callback`] });

/** An org whose admin is signed in; `save` puts a connection through the API. */
async function orgWithAdmin(t: TestContext, options: { ssoAllowLoopback?: boolean } = {}) {
  const clock = new ManualClock(Date.now());
  const testApp = await createTestApp(store, { baseUrl: APP_URL, clock, ...options });
  t.after(() => testApp.close());
  const seeded = await seedOrg(testApp.deps);
  const { app } = testApp;
  const adminToken = await signIn(app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  const save = (issuer: string, secret = idp.clientSecret) =>
    app.inject({
      method: 'PUT',
      url: '/api/v1/org/sso',
      headers: withSession(adminToken),
      payload: {
        issuer,
        client_id: idp.clientId,
        client_secret: secret,
        allowed_domains: [],
        create_users: false,
      },
    });
  const start = () => app.inject({ url: `/api/v1/auth/sso/${seeded.org.slug}/start` });
  const testConnection = () =>
    app.inject({ method: 'POST', url: '/api/v1/org/sso/test', headers: withSession(adminToken) });
  return { app, clock, save, start, testConnection };
}

test('anonymous /start reuses the discovery document for its lifetime, then fetches it again', async (t) => {
  const { clock, save, start } = await orgWithAdmin(t);
  assert.equal((await save(idp.issuer)).statusCode, 204);
  const before = idp.discoveryRequests.length;

  // Concurrent callers share one fetch; later ones use its result.
  const concurrent = await Promise.all(Array.from({ length: 10 }, () => start()));
  assert.deepEqual(
    concurrent.map((r) => r.statusCode),
    Array(10).fill(302),
  );
  for (let i = 0; i < 10; i += 1) assert.equal((await start()).statusCode, 302);
  assert.equal(idp.discoveryRequests.length - before, 1);

  clock.advanceSeconds(SSO_DISCOVERY_CACHE_SECONDS - 1);
  assert.equal((await start()).statusCode, 302);
  assert.equal(idp.discoveryRequests.length - before, 1);
  clock.advanceSeconds(1);
  assert.equal((await start()).statusCode, 302);
  assert.equal(idp.discoveryRequests.length - before, 2);

  // Saving the connection again (here, a new secret) starts afresh.
  assert.equal((await save(idp.issuer, idp.clientSecret)).statusCode, 204);
  assert.equal((await start()).statusCode, 302);
  assert.equal(idp.discoveryRequests.length - before, 3);
});

test('a discovery document naming a token, key or userinfo endpoint on an internal address is refused', async (t) => {
  const metadata = JSON.parse(
    await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).text(),
  ) as Record<string, unknown>;
  let endpoints: Record<string, string> = {};
  // A provider that is the real one in every way, but for the endpoints the test sets.
  const provider = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ ...metadata, issuer, ...endpoints }));
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => provider.close(() => resolve())));
  const issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;

  const { save, start, testConnection } = await orgWithAdmin(t);
  assert.equal((await save(issuer)).statusCode, 204);
  // As served, the document is accepted: what follows is refused for its endpoints alone.
  assert.equal((await testConnection()).statusCode, 200);

  const refused: Array<Record<string, string>> = [
    { token_endpoint: 'http://169.254.169.254/latest/meta-data/' },
    { token_endpoint: 'https://10.0.0.1/token' },
    { jwks_uri: 'http://[fd00::1]/jwks' },
    { jwks_uri: `http://user:pass@127.0.0.1:${new URL(issuer).port}/jwks` },
    { userinfo_endpoint: 'https://192.168.1.1/me' },
    { token_endpoint: 'file:///etc/passwd' },
  ];
  for (const bad of refused) {
    endpoints = bad;
    const tested = await testConnection();
    assert.equal(tested.statusCode, 502, JSON.stringify(bad));
    assert.equal(tested.json().error, 'sso_unavailable');
    assert.equal((await start()).statusCode, 502, JSON.stringify(bad));
  }
});

test('with loopback not allowed, an issuer on loopback or a name that resolves to it is refused; a public one is saved', async (t) => {
  const { save } = await orgWithAdmin(t, { ssoAllowLoopback: false });
  const port = new URL(idp.issuer).port;
  for (const issuer of [
    idp.issuer,
    `https://127.0.0.1:${port}`,
    `http://localhost:${port}`,
    `https://localhost:${port}`,
    `https://[::1]:${port}`,
    'https://name-that-does-not-resolve.invalid/',
  ]) {
    const saved = await save(issuer);
    assert.equal(saved.statusCode, 400, issuer);
    assert.equal(saved.json().error, 'invalid_issuer', issuer);
  }
  // A public address (not contacted on save) is accepted.
  assert.equal((await save('https://93.184.216.34/realms/acme')).statusCode, 204);
});
