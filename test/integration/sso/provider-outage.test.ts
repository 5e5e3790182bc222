import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SSO_DISCOVERY_RETRY_SECONDS,
  SSO_START_WAIT_SECONDS,
  SSO_TEST_TIMEOUT_SECONDS,
} from '../../../src/core/limits.ts';
import { withSession } from '../../helpers/app.ts';
import { Browser, TestIdentityProvider } from '../../helpers/oidc-provider.ts';
import {
  APP_URL,
  CALLBACK_URL,
  assertRefused,
  untilCallback,
  useSsoTestbed,
} from '../../helpers/sso.ts';

/*
 * An identity provider that is down or never answers: sign-ins fail fast and cleanly, and work
 * again once it is back.
 */

const { ssoOrg, sessionsOf } = useSsoTestbed();

test('an identity provider that is down: /start answers 502, a callback in flight fails cleanly', async (t) => {
  const own = await TestIdentityProvider.start({ redirectUris: [CALLBACK_URL] });
  t.after(() => own.stop());
  const { app, clock, addSsoUser, startPath, adminToken } = await ssoOrg({ provider: own });
  t.after(() => app.close());
  const alice = await addSsoUser('alice');

  // Down between /start and the callback: the code cannot be exchanged.
  const browser = new Browser(app, APP_URL);
  const callbackUrl = await untilCallback(browser, startPath, { account: alice.account });
  await own.down();
  assertRefused(await browser.visit(callbackUrl), 'sso_unavailable');
  assert.deepEqual(await sessionsOf(alice.id), []);

  // Down before: /start says so, as JSON, and sets no cookie.
  const started = await app.inject({ url: startPath });
  assert.equal(started.statusCode, 502);
  assert.equal(started.json().error, 'sso_unavailable');
  assert.equal(started.cookies.length, 0);
  const tested = await app.inject({
    method: 'POST',
    url: '/api/v1/org/sso/test',
    headers: withSession(adminToken),
  });
  assert.equal(tested.statusCode, 502);

  // Back up: the failure is remembered for a while, and the provider is not asked meanwhile...
  await own.up();
  const asked = own.discoveryRequests.length;
  const early = await app.inject({ url: startPath });
  assert.equal(early.statusCode, 502);
  assert.equal(own.discoveryRequests.length, asked);
  // ...then signing in works again.
  clock.advanceSeconds(SSO_DISCOVERY_RETRY_SECONDS);
  const journey = await new Browser(app, APP_URL).visit(startPath, {
    user: { account: alice.account },
  });
  assert.equal(journey.landed?.href, `${APP_URL}/`);
});

test('an identity provider that hangs: /start gives up after a short wait with 502, the next ones at once, and so does the admin test', async (t) => {
  const hanging = createServer(() => {
    // Accepts the connection, never answers.
  });
  let connections = 0;
  hanging.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    hanging.closeAllConnections();
    return new Promise<void>((resolve) => hanging.close(() => resolve()));
  });
  const { app, configureSso, startPath, adminToken } = await ssoOrg();
  t.after(() => app.close());
  const issuer = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  assert.equal((await configureSso({ issuer })).statusCode, 204);
  const timed = async <T>(call: () => Promise<T>) => {
    const began = Date.now();
    const answer = await call();
    return { answer, waited: Date.now() - began };
  };
  // The first caller waits for the discovery fetch SSO_START_WAIT_SECONDS (3 s), not for the
  // provider's 10 s timeout; the fetch goes on in the background. The upper bounds leave room for
  // a loaded machine, not for a hang.
  const first = await timed(() => app.inject({ url: startPath }));
  assert.equal(first.answer.statusCode, 502);
  assert.equal(first.answer.json().error, 'sso_unavailable');
  const wait = SSO_START_WAIT_SECONDS * 1000;
  assert.ok(first.waited >= wait - 100 && first.waited < wait + 5_000, `waited ${first.waited} ms`);
  // The next callers do not wait for the fetch in progress, nor start another.
  for (let i = 0; i < 3; i += 1) {
    const next = await timed(() => app.inject({ url: startPath }));
    assert.equal(next.answer.statusCode, 502);
    assert.ok(next.waited < 1_000, `waited ${next.waited} ms`);
  }
  assert.equal(connections, 1);
  // The admin's test fetches live, and gives up after SSO_TEST_TIMEOUT_SECONDS (5 s).
  const tested = await timed(() =>
    app.inject({ method: 'POST', url: '/api/v1/org/sso/test', headers: withSession(adminToken) }),
  );
  assert.equal(tested.answer.statusCode, 502);
  assert.equal(tested.answer.json().error, 'sso_unavailable');
  const timeout = SSO_TEST_TIMEOUT_SECONDS * 1000;
  assert.ok(
    tested.waited >= timeout - 100 && tested.waited < timeout + 5_000,
    `waited ${tested.waited} ms`,
  );
});
