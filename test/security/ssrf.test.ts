import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { TestIdentityProvider } from '../helpers/oidc-provider.ts';
import { Service, type Client } from './harness.ts';

/*
 * Server-side request forgery through the SSO issuer. Whoever saves the org's connection picks
 * the URL the server fetches (discovery, keys, tokens), and anyone may make it fetch through the
 * anonymous /start. So the issuer may only name a public address (loopback only where the
 * operator allows it, for development), and /start answers from a cache: the provider is not
 * fetched once per anonymous request, and a provider that hangs costs the caller little.
 */

/** A port where something listens and accepts connections, but never answers. */
async function hangingServer(t: TestContext): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server: Server = createServer(() => {});
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function connection(issuer: string) {
  return {
    issuer,
    client_id: 'portcullis',
    client_secret: 'client secret of the test',
    allowed_domains: [],
    create_users: false,
  };
}

async function assertIssuerRefused(admin: Client, issuer: string) {
  const saved = await admin.put('/org/sso', connection(issuer));
  assert.equal(saved.status, 400, `${issuer}: ${await saved.clone().text()}`);
  assert.equal(((await saved.json()) as { error: string }).error, 'invalid_issuer', issuer);
}

/** An anonymous /start, as a browser's first request: the redirect is not followed. */
async function start(service: Service): Promise<{ status: number; ms: number; body: string }> {
  const began = performance.now();
  const response = await fetch(`${service.url()}/api/v1/auth/sso/${service.org}/start`, {
    redirect: 'manual',
  });
  const body = await response.text();
  return { status: response.status, ms: performance.now() - began, body };
}

// Each test starts its own server; they run side by side.
describe('SSRF through the SSO issuer', { concurrency: 2 }, () => {
  test('with loopback not allowed, issuers on internal, link-local or numeric-spelled addresses, or with credentials, are refused at save time', async (t) => {
    const service = await Service.start(t, { env: { PORTCULLIS_SSO_ALLOW_LOOPBACK: 'false' } });
    const hanging = await hangingServer(t);
    const port = hanging.port;
    const admin = await service.admin();

    for (const issuer of [
      // The spellings of the report.
      `http://2130706433:${port}/`,
      `http://user:pass@127.0.0.1:${port}/`,
      'https://169.254.169.254/',
      // Loopback, however written, or by a name that resolves to it.
      `http://127.0.0.1:${port}`,
      `https://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      `https://localhost:${port}`,
      'https://0177.0.0.1/',
      'https://0x7f.1/',
      'https://127.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      // Private, shared, link-local, unspecified, multicast, broadcast, IPv6 local and NAT64.
      'https://10.0.0.5/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://0.0.0.0/',
      'https://0/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
      'https://[::]/',
      'https://[fe80::1]/',
      'https://[fd00::1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[64:ff9b::a9fe:a9fe]/',
      // Credentials are refused before any name is looked up.
      'https://user:pass@idp.example.com/',
      'https://user@idp.example.com/',
    ]) {
      await assertIssuerRefused(admin, issuer);
    }
    // Nothing was saved, and nothing was ever contacted.
    const settings = await admin.get('/org/sso');
    assert.equal(settings.status, 404);
    assert.equal(((await settings.json()) as { error: string }).error, 'sso_not_configured');
    assert.equal(hanging.connections(), 0);
  });

  test('with loopback allowed, a loopback provider works; anonymous /start fetches discovery once, and a hanging provider costs it little', async (t) => {
    const service = await Service.start(t, { env: { PORTCULLIS_SSO_ALLOW_LOOPBACK: 'true' } });
    const admin = await service.admin();
    const idp = await TestIdentityProvider.start({
      redirectUris: [`${service.url()}/api/v1/auth/sso/callback`],
    });
    t.after(() => idp.stop());

    // Loopback allowed does not open anything else.
    await assertIssuerRefused(admin, `http://user:pass@127.0.0.1:${new URL(idp.issuer).port}/`);
    await assertIssuerRefused(admin, 'https://169.254.169.254/');
    await assertIssuerRefused(admin, 'https://10.0.0.5/');

    const saved = await admin.put('/org/sso', {
      ...connection(idp.issuer),
      client_id: idp.clientId,
      client_secret: idp.clientSecret,
    });
    assert.equal(saved.status, 204, await saved.clone().text());

    // Twenty anonymous /start requests: twenty redirects to the provider, one discovery fetch.
    for (let i = 0; i < 20; i += 1) {
      const started = await start(service);
      assert.equal(started.status, 302, started.body);
    }
    assert.equal(idp.discoveryRequests.length, 1);
    assert.equal(idp.authorizationRequests.length, 0);

    // A provider that accepts the connection and never answers.
    const hanging = await hangingServer(t);
    const hangingIssuer = `http://127.0.0.1:${hanging.port}`;
    const resaved = await admin.put('/org/sso', connection(hangingIssuer));
    assert.equal(resaved.status, 204, await resaved.clone().text());
    const first = await start(service);
    assert.equal(first.status, 502, first.body);
    assert.equal(JSON.parse(first.body).error, 'sso_unavailable');
    // The first caller waits for the probe 3 s at most (not the provider's 10 s timeout)...
    assert.ok(first.ms < 6_000, `the first /start took ${Math.round(first.ms)} ms`);
    // ...and the next ones do not wait for it at all.
    for (let i = 0; i < 5; i += 1) {
      const next = await start(service);
      assert.equal(next.status, 502, next.body);
      assert.ok(next.ms < 1_000, `a later /start took ${Math.round(next.ms)} ms`);
    }
    assert.equal(hanging.connections(), 1);
  });
});
