import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSO_STATE_SECONDS } from '../../../src/core/limits.ts';
import { hashToken } from '../../../src/core/tokens.ts';
import { withSession } from '../../helpers/app.ts';
import { Browser } from '../../helpers/oidc-provider.ts';
import { APP_URL, assertRefused, untilCallback, useSsoTestbed } from '../../helpers/sso.ts';

/*
 * What the app checks of the provider's answer before it makes a session: the state (bound to
 * the browser, single use, short-lived), the provider's one-use code, the ID token's nonce, issuer
 * and expiry, and the issuer of the authorization response.
 */

const { store, idp, ssoOrg, sessionsOf, stateRow } = useSsoTestbed();

test('a wrong state makes no session: tampered, missing cookie (another browser), another sign-in’s, expired', async (t) => {
  const { app, clock, addSsoUser, startPath } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');

  // The state in the query is not the one of this browser.
  const tamperedBrowser = new Browser(app, APP_URL);
  const genuine = await untilCallback(tamperedBrowser, startPath, { account: alice.account });
  const tampered = new URL(genuine);
  tampered.searchParams.set('state', `${genuine.searchParams.get('state')}x`);
  assertRefused(await tamperedBrowser.visit(tampered), 'sso_failed');

  // Login CSRF: the genuine callback URL played in a browser that never started the sign-in.
  const victimBrowser = new Browser(app, APP_URL);
  const planted = await untilCallback(new Browser(app, APP_URL), startPath, {
    account: alice.account,
  });
  assertRefused(await victimBrowser.visit(planted), 'sso_failed');

  // Two sign-ins started in one browser: the first one's answer no longer matches the cookie.
  const twice = new Browser(app, APP_URL);
  const first = await untilCallback(twice, startPath, { account: alice.account });
  await untilCallback(twice, startPath, { account: alice.account });
  assertRefused(await twice.visit(first), 'sso_failed');

  // No state at all.
  const bare = new URL(first);
  bare.searchParams.delete('state');
  assertRefused(await new Browser(app, APP_URL).visit(bare), 'sso_failed');

  // A state older than the round trip may take (by the app's clock).
  const slow = new Browser(app, APP_URL);
  const late = await untilCallback(slow, startPath, { account: alice.account });
  clock.advanceSeconds(SSO_STATE_SECONDS + 1);
  assertRefused(await slow.visit(late), 'sso_failed');

  assert.deepEqual(await sessionsOf(alice.id), []);
});

test('a replayed callback is refused, by the app (state spent) and by the provider (code spent)', async (t) => {
  const { app, addSsoUser, startPath } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const browser = new Browser(app, APP_URL);
  const callbackUrl = await untilCallback(browser, startPath, { account: alice.account });
  const state = callbackUrl.searchParams.get('state') as string;
  const pending = await stateRow(callbackUrl);
  assert.ok(pending);

  const once = await browser.visit(callbackUrl);
  assert.equal(once.landed?.href, `${APP_URL}/`);
  assert.equal((await sessionsOf(alice.id)).length, 1);

  // The same answer again, with the state cookie it came with: the state is spent.
  const replay = new Browser(app, APP_URL);
  replay.setCookie('portcullis_sso_state', state, '/api/v1/auth/sso');
  assertRefused(await replay.visit(callbackUrl), 'sso_failed');

  // Even with the app's state put back, the provider refuses a code used once.
  await store.db.insertInto('sso_states').values(pending).execute();
  const tokenAnswers = idp.tokenAnswers.length;
  replay.setCookie('portcullis_sso_state', state, '/api/v1/auth/sso');
  assertRefused(await replay.visit(callbackUrl), 'sso_failed');
  // The code did reach the provider's token endpoint, which refused it (invalid_grant).
  assert.deepEqual(idp.tokenAnswers.slice(tokenAnswers), [400]);
  assert.equal(await stateRow(callbackUrl), undefined);
  assert.equal((await sessionsOf(alice.id)).length, 1);
});

test('an ID token with another nonce is refused', async (t) => {
  const { app, addSsoUser, startPath, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');

  // The provider's genuine token, for a nonce this sign-in did not send.
  const browser = new Browser(app, APP_URL);
  const callbackUrl = await untilCallback(browser, startPath, { account: alice.account });
  await store.db
    .updateTable('sso_states')
    .set({ nonce: 'a-nonce-from-another-sign-in' })
    .where('state_hash', '=', hashToken(callbackUrl.searchParams.get('state') as string))
    .execute();
  assertRefused(await browser.visit(callbackUrl), 'sso_failed');
  // The provider did issue its tokens: the ID token itself was refused.
  assert.equal(idp.tokenAnswers.at(-1), 200);

  // A token validly signed by the provider but carrying another nonce.
  idp.idTokenRewrite = (claims) => ({ ...claims, nonce: 'another-nonce' });
  t.after(() => {
    idp.idTokenRewrite = null;
  });
  assertRefused((await ssoSignIn({ account: alice.account })).journey, 'sso_failed');
  assert.deepEqual(await sessionsOf(alice.id), []);
});

test('an unknown issuer is refused: discovery naming another issuer, nothing listening, an ID token or a response from another issuer', async (t) => {
  const { app, adminToken, addSsoUser, configureSso, startPath, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const testConnection = () =>
    app.inject({ method: 'POST', url: '/api/v1/org/sso/test', headers: withSession(adminToken) });
  const start = () => app.inject({ url: startPath });

  // A server whose discovery document is the real provider's: it names another issuer.
  const metadata = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).text();
  const impostor = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(metadata);
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
  const impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  assert.equal((await configureSso({ issuer: impostorUrl })).statusCode, 204);
  const impostorTest = await testConnection();
  assert.equal(impostorTest.statusCode, 502);
  assert.equal(impostorTest.json().error, 'sso_unavailable');
  const impostorStart = await start();
  assert.equal(impostorStart.statusCode, 502);
  assert.equal(impostorStart.json().error, 'sso_unavailable');
  assert.equal(impostorStart.cookies.length, 0);

  // An issuer where nothing listens.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  assert.equal((await configureSso({ issuer: `http://127.0.0.1:${closedPort}` })).statusCode, 204);
  assert.equal((await testConnection()).statusCode, 502);
  const closedStart = await start();
  assert.equal(closedStart.statusCode, 502);
  assert.equal(closedStart.json().error, 'sso_unavailable');

  // A path under the real provider is another issuer, which has no discovery document.
  assert.equal((await configureSso({ issuer: `${idp.issuer}/tenant` })).statusCode, 204);
  assert.equal((await testConnection()).statusCode, 502);
  assert.equal((await start()).statusCode, 502);

  // Back to the real provider; then an ID token issued in another issuer's name...
  assert.equal((await configureSso({ issuer: idp.issuer })).statusCode, 204);
  idp.idTokenRewrite = (claims) => ({ ...claims, iss: 'http://127.0.0.1:1' });
  t.after(() => {
    idp.idTokenRewrite = null;
  });
  assertRefused((await ssoSignIn({ account: alice.account })).journey, 'sso_failed');
  idp.idTokenRewrite = null;

  // ...and an authorization response claiming to come from another issuer (mix-up).
  const browser = new Browser(app, APP_URL);
  const callbackUrl = await untilCallback(browser, startPath, { account: alice.account });
  assert.equal(callbackUrl.searchParams.get('iss'), idp.issuer);
  callbackUrl.searchParams.set('iss', 'http://127.0.0.1:1');
  assertRefused(await browser.visit(callbackUrl), 'sso_failed');
  assert.deepEqual(await sessionsOf(alice.id), []);
});

test('an expired ID token is refused', async (t) => {
  const { app, addSsoUser, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  // Signed by the provider's key, expired two minutes ago (beyond openid-client's 30 s tolerance).
  idp.idTokenRewrite = (claims) => {
    const now = Math.floor(Date.now() / 1000);
    return { ...claims, iat: now - 720, exp: now - 120 };
  };
  t.after(() => {
    idp.idTokenRewrite = null;
  });
  assertRefused((await ssoSignIn({ account: alice.account })).journey, 'sso_failed');
  assert.deepEqual(await sessionsOf(alice.id), []);

  // The same token signed again with nothing changed is accepted: only the expiry was wrong.
  idp.idTokenRewrite = (claims) => ({ ...claims });
  const resigned = await ssoSignIn({ account: alice.account });
  assert.equal(resigned.journey.landed?.href, `${APP_URL}/`);
  // And without any rewriting, of course.
  idp.idTokenRewrite = null;
  const { journey } = await ssoSignIn({ account: alice.account });
  assert.equal(journey.landed?.href, `${APP_URL}/`);
});
