import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SSO_DISCOVERY_RETRY_SECONDS,
  SSO_START_WAIT_SECONDS,
  SSO_STATE_SECONDS,
  SSO_TEST_TIMEOUT_SECONDS,
} from '../../src/core/limits.ts';
import { decryptSecret } from '../../src/core/secret-box.ts';
import { hashToken } from '../../src/core/tokens.ts';
import { clientSecretAad } from '../../src/services/sso-client.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  signIn,
  withSession,
} from '../helpers/app.ts';
import { ManualClock } from '../helpers/clock.ts';
import { enrollTotp } from '../helpers/mfa.ts';
import {
  Browser,
  TestIdentityProvider,
  type IdpUser,
  type Journey,
} from '../helpers/oidc-provider.ts';
import { openTestStore, type TestStore } from '../helpers/store.ts';

const APP_URL = 'http://portcullis.test';
const CALLBACK_URL = `${APP_URL}/api/v1/auth/sso/callback`;

let store: TestStore;
let idp: TestIdentityProvider;
before(async () => {
  store = await openTestStore();
  idp = await TestIdentityProvider.start({ redirectUris: [CALLBACK_URL] });
});
after(async () => {
  await idp.stop();
  await store.dispose();
});

type SsoOrgOptions = {
  provider?: TestIdentityProvider;
  createUsers?: boolean;
  allowedDomains?: string[];
  configure?: boolean;
  /** Where the app's clock starts (default: the real time now). */
  clockStart?: number;
};

/**
 * An org whose admin (password, no MFA under the default policy) has configured the connection to
 * the test provider through the API. The app's clock starts at the real time: the provider's
 * auth_time and token lifetimes are real.
 */
async function ssoOrg(options: SsoOrgOptions = {}) {
  const provider = options.provider ?? idp;
  const clock = new ManualClock(options.clockStart ?? Date.now());
  const testApp = await createTestApp(store, { baseUrl: APP_URL, clock });
  const seeded = await seedOrg(testApp.deps);
  const { app } = testApp;
  const slug = seeded.org.slug;
  const adminToken = await signIn(app, {
    org: slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  const configureSso = (body: Record<string, unknown>, token = adminToken) =>
    app.inject({
      method: 'PUT',
      url: '/api/v1/org/sso',
      headers: withSession(token),
      payload: {
        issuer: provider.issuer,
        client_id: provider.clientId,
        client_secret: provider.clientSecret,
        allowed_domains: options.allowedDomains ?? [],
        create_users: options.createUsers ?? false,
        ...body,
      },
    });
  if (options.configure !== false) {
    const configured = await configureSso({});
    assert.equal(configured.statusCode, 204, configured.body);
  }

  /** An SSO user created by the admin, and the same person's account at the provider. */
  const addSsoUser = async (local: string, role: 'member' | 'admin' = 'member') => {
    const email = `${local}@${slug}.test`;
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/org/users',
      headers: withSession(adminToken),
      payload: { email, name: `${local} sso`, role, sso: true },
    });
    assert.equal(created.statusCode, 201, created.body);
    const account = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, { email });
    return { id: created.json().user.id as string, email, account };
  };

  const startPath = `/api/v1/auth/sso/${slug}/start`;
  /** A whole SSO sign-in in a browser: /start, the provider's prompts, the callback. */
  const ssoSignIn = (user: IdpUser, browser = new Browser(app, APP_URL)) =>
    browser.visit(startPath, { user }).then((journey) => ({ journey, browser }));

  const audit = async (type: string) => {
    const response = await app.inject({
      url: `/api/v1/org/audit?type=${type}`,
      headers: withSession(adminToken),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().events as Array<{
      type: string;
      target: { id: string } | null;
      details: Record<string, unknown>;
    }>;
  };

  return {
    ...testApp,
    ...seeded,
    slug,
    provider,
    adminToken,
    configureSso,
    addSsoUser,
    startPath,
    ssoSignIn,
    audit,
  };
}

/** The answer of the app's callback in a journey. */
function callbackOf(journey: Journey) {
  const hop = journey.hops.find(
    (h) => h.url.origin === APP_URL && h.url.pathname === '/api/v1/auth/sso/callback',
  );
  assert.ok(hop, `no callback in ${journey.hops.map((h) => h.url.href).join(' -> ')}`);
  return hop;
}

function sessionCookieSet(journey: Journey): boolean {
  return journey.hops.some((h) =>
    h.setCookies.some((c) => /^(__Host-)?portcullis_session=[^;]/.test(c)),
  );
}

/** The journey ended on the sign-in page with this error, and no session cookie was ever set. */
function assertRefused(journey: Journey, error: string, path = '/sign-in') {
  assert.ok(
    journey.landed,
    `the browser did not land: ${journey.hops.map((h) => `${h.status} ${h.url.href}`).join(' -> ')}`,
  );
  assert.equal(journey.landed.pathname, path);
  assert.equal(journey.landed.searchParams.get('sso_error'), error);
  assert.equal(sessionCookieSet(journey), false);
}

async function sessionsOf(userId: string) {
  return store.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();
}

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

test('an SSO user signs in through the provider: authenticated session, acr/amr/auth_time recorded', async (t) => {
  const { app, slug, addSsoUser, ssoSignIn, audit, startPath } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const before = Math.floor(Date.now() / 1000);
  idp.idTokenRewrite = (c) => {
    return c;
  };
  const { journey, browser } = await ssoSignIn({
    account: alice.account,
    acr: 'urn:test:loa:2',
    amr: ['pwd', 'otp'],
  });

  // /start → the provider's authorization endpoint, code flow with PKCE, state and nonce.
  const [start] = journey.hops;
  assert.equal(start?.url.pathname, startPath);
  assert.equal(start?.status, 302);
  const authorization = start.location as URL;
  assert.equal(`${authorization.origin}${authorization.pathname}`, `${idp.issuer}/auth`);
  const query = Object.fromEntries(authorization.searchParams);
  assert.equal(query.response_type, 'code');
  assert.equal(query.client_id, idp.clientId);
  assert.equal(query.redirect_uri, CALLBACK_URL);
  assert.equal(query.code_challenge_method, 'S256');
  assert.ok(query.code_challenge && query.state && query.nonce);
  assert.deepEqual(query.scope?.split(' ').sort(), ['email', 'openid', 'profile']);
  assert.equal(query.prompt, undefined);
  const stateCookie = start.setCookies.find((c) => c.startsWith('portcullis_sso_state='));
  assert.ok(stateCookie && /HttpOnly/i.test(stateCookie) && /SameSite=Lax/i.test(stateCookie));

  // The provider really asked for a login and a consent, then came back to the callback.
  assert.ok(journey.hops.some((h) => /^\/interaction\/[\w-]+\/login$/.test(h.url.pathname)));
  const callback = callbackOf(journey);
  assert.equal(callback.status, 302);
  assert.equal(journey.landed?.href, `${APP_URL}/`);
  assert.equal(journey.landed?.search, '');
  const token = browser.cookie('portcullis_session');
  assert.ok(token);
  // The one-use SSO cookies are gone.
  assert.equal(browser.cookie('portcullis_sso_state'), undefined);

  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.equal(me.statusCode, 200);
  assert.equal(me.json().user.email, alice.email);
  assert.equal(me.json().user.sso, true);
  assert.equal(me.json().user.org.slug, slug);
  assert.deepEqual(me.json().session, { status: 'authenticated', aal: 1 });
  assert.deepEqual(me.json().mfa.methods, []);

  const [session] = await store.db
    .selectFrom('sessions')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .execute();
  assert.ok(session?.sso_auth_time);
  const authTime = session.sso_auth_time.getTime() / 1000;
  assert.ok(authTime >= before - 1 && authTime <= Date.now() / 1000 + 1, String(authTime));
  assert.equal(session.sso_acr, 'urn:test:loa:2');
  assert.deepEqual(session.sso_amr, ['pwd', 'otp']);

  const [event] = await audit('sso.login_succeeded');
  assert.ok(event);
  assert.deepEqual(event.details, {
    auth_time: session.sso_auth_time.toISOString(),
    acr: 'urn:test:loa:2',
    amr: ['pwd', 'otp'],
  });
});

const atCallback = (url: URL) => url.href.startsWith(CALLBACK_URL);

/** Runs the flow up to the provider's redirect back to the app, and stops there. */
async function untilCallback(browser: Browser, startPath: string, user: IdpUser): Promise<URL> {
  const journey = await browser.visit(startPath, { user, stopAt: atCallback });
  assert.ok(
    journey.stoppedAt,
    `never reached the callback: ${journey.hops.map((h) => `${h.status} ${h.url.href}`).join(' -> ')}`,
  );
  assert.ok(journey.stoppedAt.searchParams.get('code'));
  return journey.stoppedAt;
}

async function stateRow(callbackUrl: URL) {
  return store.db
    .selectFrom('sso_states')
    .selectAll()
    .where('state_hash', '=', hashToken(callbackUrl.searchParams.get('state') ?? ''))
    .executeTakeFirst();
}

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

test('cancelling at the provider makes no session', async (t) => {
  const { app, addSsoUser, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const { journey } = await ssoSignIn({ account: alice.account, cancel: true });
  assert.equal(callbackOf(journey).url.searchParams.get('error'), 'access_denied');
  assertRefused(journey, 'sso_failed');
  assert.deepEqual(await sessionsOf(alice.id), []);
});

test('under "required", an SSO user signs in with no MFA prompt while a password user must enroll', async (t) => {
  const { app, org, member, slug, addSsoUser, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', org.id)
    .execute();
  const alice = await addSsoUser('alice');

  const { journey, browser } = await ssoSignIn({ account: alice.account });
  assert.equal(journey.landed?.href, `${APP_URL}/`);
  const token = browser.cookie('portcullis_session') as string;
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.equal(me.statusCode, 200);
  assert.deepEqual(me.json().session, { status: 'authenticated', aal: 1 });
  assert.equal(me.json().mfa.policy, 'required');
  assert.deepEqual(me.json().mfa.methods, []);
  // A protected admin-free page works straight away, and enrolling is not even offered.
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(token),
    payload: {},
  });
  assert.equal(setup.statusCode, 403);
  assert.equal(
    await store.db
      .selectFrom('factors')
      .select('id')
      .where('user_id', '=', alice.id)
      .executeTakeFirst(),
    undefined,
  );

  const password = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: slug, email: member.email, password: MEMBER_PASSWORD },
  });
  assert.equal(password.statusCode, 200);
  assert.equal(password.json().status, 'enrollment_required');
  const blocked = await app.inject({
    url: '/api/v1/org/users',
    headers: withSession(sessionCookieOf(password)),
  });
  assert.equal(blocked.statusCode, 403);
  assert.equal(blocked.json().error, 'enrollment_required');
});

test('a first SSO sign-in with the email of a password user is refused and changes nothing', async (t) => {
  const { app, org, member, slug, provider, ssoSignIn, audit } = await ssoOrg({
    createUsers: true,
  });
  t.after(() => app.close());
  const before = await store.db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', member.id)
    .executeTakeFirstOrThrow();
  // Same address, other case: the same account.
  const account = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: member.email.toUpperCase(),
  });
  const { journey } = await ssoSignIn({ account });
  assertRefused(journey, 'sso_account_conflict');
  assert.deepEqual(await sessionsOf(member.id), []);
  const afterRow = await store.db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', member.id)
    .executeTakeFirstOrThrow();
  assert.deepEqual(afterRow, before);
  const users = await store.db
    .selectFrom('users')
    .select('email')
    .where('org_id', '=', org.id)
    .execute();
  assert.equal(users.length, 2);
  const [refused] = await audit('sso.login_refused');
  assert.equal(refused?.details.reason, 'sso_account_conflict');
  // The password user is untouched and still signs in with the password.
  await signIn(app, { org: slug, email: member.email, password: MEMBER_PASSWORD });
});

test('first sign-in: created only if the org allows it, from an allowed domain, with a verified email', async (t) => {
  const { app, org, slug, provider, configureSso, ssoSignIn, audit } = await ssoOrg({
    configure: false,
  });
  t.after(() => app.close());
  const domain = `${slug}.test`;
  const newcomer = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: `newcomer@${domain}`,
  });
  const usersNamed = (email: string) =>
    store.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', org.id)
      .where('email', '=', email)
      .execute();

  // create_users off: unknown.
  assert.equal((await configureSso({ create_users: false, allowed_domains: [] })).statusCode, 204);
  assertRefused((await ssoSignIn({ account: newcomer })).journey, 'sso_user_unknown');
  assert.deepEqual(await usersNamed(`newcomer@${domain}`), []);

  // create_users on, but only for another domain.
  assert.equal(
    (await configureSso({ create_users: true, allowed_domains: ['example.com'] })).statusCode,
    204,
  );
  assertRefused((await ssoSignIn({ account: newcomer })).journey, 'sso_domain_not_allowed');
  // A subdomain is another domain.
  const sub = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: `x@eu.${domain}`,
  });
  assert.equal(
    (await configureSso({ create_users: true, allowed_domains: [domain.toUpperCase()] }))
      .statusCode,
    204,
  );
  assertRefused((await ssoSignIn({ account: sub })).journey, 'sso_domain_not_allowed');

  // An address the provider has not verified.
  const unverified = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: `unverified@${domain}`,
    email_verified: false,
  });
  assertRefused((await ssoSignIn({ account: unverified })).journey, 'sso_email_unverified');
  assert.deepEqual(await usersNamed(`unverified@${domain}`), []);
  // Also when the provider says so as a string.
  const unverifiedString = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: `unverified2@${domain}`,
    email_verified: 'false',
  });
  assertRefused((await ssoSignIn({ account: unverifiedString })).journey, 'sso_email_unverified');
  assert.deepEqual(await usersNamed(`unverified2@${domain}`), []);

  // Allowed: created as an SSO member on the first sign-in, found again on the next.
  const first = await ssoSignIn({ account: newcomer });
  assert.equal(first.journey.landed?.href, `${APP_URL}/`);
  const me = await app.inject({
    url: '/api/v1/me',
    headers: withSession(first.browser.cookie('portcullis_session') as string),
  });
  assert.equal(me.json().user.email, `newcomer@${domain}`);
  assert.equal(me.json().user.role, 'member');
  assert.equal(me.json().user.sso, true);
  const [created] = await usersNamed(`newcomer@${domain}`);
  assert.equal(created?.password_hash, null);
  assert.equal(created?.sso, true);
  const createdEvents = (await audit('user.created')).filter(
    (e) => e.details.by === 'sso_first_sign_in',
  );
  assert.deepEqual(
    createdEvents.map((e) => e.target?.id),
    [created?.id],
  );
  const second = await ssoSignIn({ account: newcomer });
  assert.equal(second.journey.landed?.href, `${APP_URL}/`);
  assert.equal((await usersNamed(`newcomer@${domain}`)).length, 1);
});

test('an email claim that is not a bare mailbox is refused with sso_email_invalid and makes no account', async (t) => {
  const { app, org, admin, member, slug, provider, configureSso, ssoSignIn } = await ssoOrg({
    createUsers: true,
  });
  t.after(() => app.close());
  const domain = `${slug}.test`;
  for (const email of [
    'victim<attacker@evil.test>',
    `victim.${domain},attacker2@evil.test`,
    `Victim <victim@${domain}>`,
    `victim@${domain}\r\nBcc: attacker@evil.test`,
    `attacker%evil.test@${domain}`,
    `\u0430dmin@${domain}`,
  ]) {
    const account = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, { email });
    const { journey } = await ssoSignIn({ account });
    assertRefused(journey, 'sso_email_invalid');
  }
  // Allowed domains change nothing: the claim is refused before its domain is looked at.
  assert.equal(
    (await configureSso({ create_users: true, allowed_domains: [domain] })).statusCode,
    204,
  );
  const routed = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: `attacker%evil.test@${domain}`,
  });
  assertRefused((await ssoSignIn({ account: routed })).journey, 'sso_email_invalid');
  const emails = await store.db
    .selectFrom('users')
    .select('email')
    .where('org_id', '=', org.id)
    .orderBy('email')
    .execute();
  assert.deepEqual(
    emails.map((row) => row.email),
    [admin.email, member.email].sort(),
  );
});

test('SSO users cannot sign in with a password nor reset one', async (t) => {
  const { app, slug, addSsoUser, mailer } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  for (const password of ['', 'whatever password', MEMBER_PASSWORD]) {
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: slug, email: alice.email, password },
    });
    if (password === '') {
      assert.equal(login.statusCode, 400);
      continue;
    }
    // Answered exactly like an unknown account: which accounts are SSO ones is not for strangers.
    assert.equal(login.statusCode, 401, login.body);
    assert.equal(login.json().error, 'invalid_credentials');
    assert.equal(login.json().sso_url, undefined);
    assert.equal(login.cookies.length, 0);
  }
  const forgot = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/password/forgot',
    payload: { org: slug, email: alice.email },
  });
  assert.equal(forgot.statusCode, 202);
  await app.backgroundTasks.idle();
  assert.deepEqual(mailer.sent, []);
  assert.deepEqual(await sessionsOf(alice.id), []);
});

test('an admin converts a password user to SSO: password, factors and sessions go; SSO sign-in works', async (t) => {
  const { app, clock, org, admin, member, slug, adminToken, provider, ssoSignIn, audit } =
    await ssoOrg();
  t.after(() => app.close());
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', org.id)
    .execute();
  const memberToken = await signIn(app, {
    org: slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  await enrollTotp(app, memberToken, clock);
  const account = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: member.email,
  });
  // Before the conversion, the provider's identity is refused (no silent linking).
  assertRefused((await ssoSignIn({ account })).journey, 'sso_account_conflict');

  const convert = (id: string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/org/users/${id}/convert-to-sso`,
      headers: withSession(adminToken),
    });
  assert.equal((await convert(admin.id)).statusCode, 403);
  const converted = await convert(member.id);
  assert.equal(converted.statusCode, 204, converted.body);
  assert.equal((await convert(member.id)).statusCode, 409);

  const me = await app.inject({ url: '/api/v1/me', headers: withSession(memberToken) });
  assert.equal(me.statusCode, 401);
  const row = await store.db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', member.id)
    .executeTakeFirstOrThrow();
  assert.equal(row.sso, true);
  assert.equal(row.password_hash, null);
  const factors = await store.db
    .selectFrom('factors')
    .select('id')
    .where('user_id', '=', member.id)
    .execute();
  const codes = await store.db
    .selectFrom('recovery_codes')
    .select('user_id')
    .where('user_id', '=', member.id)
    .execute();
  assert.deepEqual([factors.length, codes.length], [0, 0]);
  const [event] = await audit('user.converted_to_sso');
  assert.ok(event);

  const password = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: slug, email: member.email, password: MEMBER_PASSWORD },
  });
  assert.equal(password.json().error, 'invalid_credentials');

  const { journey, browser } = await ssoSignIn({ account });
  assert.equal(journey.landed?.href, `${APP_URL}/`);
  const ssoMe = await app.inject({
    url: '/api/v1/me',
    headers: withSession(browser.cookie('portcullis_session') as string),
  });
  assert.equal(ssoMe.json().user.id, member.id);
  assert.equal(ssoMe.json().user.sso, true);
  assert.deepEqual(ssoMe.json().session, { status: 'authenticated', aal: 1 });
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

/** An org with an SSO admin signed in through the provider and a member enrolled in TOTP. */
async function ssoAdminOrg() {
  // Enrolling moves the app's clock 30 s on; start it a minute back so that it stays within a
  // plausible skew of the provider's (real) clock.
  const setup = await ssoOrg({ clockStart: Date.now() - 60_000 });
  const { app, clock, org, member, slug } = setup;
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', org.id)
    .execute();
  const memberToken = await signIn(app, {
    org: slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  await enrollTotp(app, memberToken, clock);
  const ssoAdmin = await setup.addSsoUser('sam', 'admin');
  const { journey, browser } = await setup.ssoSignIn({ account: ssoAdmin.account });
  assert.equal(journey.landed?.href, `${APP_URL}/`);
  const token = browser.cookie('portcullis_session') as string;
  const resetMember = (verification?: { method: string; code: string }) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/org/users/${member.id}/mfa/reset`,
      headers: withSession(token),
      payload: verification ? { verification } : {},
    });
  const setMethods = (verification?: { method: string; code: string }) =>
    app.inject({
      method: 'PUT',
      url: '/api/v1/org/mfa/methods',
      headers: withSession(token),
      payload: { totp: true, email: false, ...(verification ? { verification } : {}) },
    });
  const reauthenticatedAt = async () =>
    (
      await store.db
        .selectFrom('sessions')
        .select('sso_reauthenticated_at')
        .where('token_hash', '=', hashToken(token))
        .executeTakeFirstOrThrow()
    ).sso_reauthenticated_at;
  return { ...setup, ssoAdmin, browser, token, resetMember, setMethods, reauthenticatedAt };
}

const SSO_VERIFICATION = { method: 'sso', code: '' };

test('step-up for an SSO admin goes through the provider (prompt=login, max_age=0) and serves one action', async (t) => {
  const { app, slug, member, ssoAdmin, browser, token, resetMember, setMethods, audit } =
    await ssoAdminOrg();
  t.after(() => app.close());

  const asked = await resetMember();
  assert.equal(asked.statusCode, 403);
  assert.equal(asked.json().error, 'verification_required');
  assert.deepEqual(asked.json().methods, ['sso']);
  const ssoUrl = asked.json().sso_url as string;
  assert.equal(ssoUrl, `/api/v1/auth/sso/${slug}/start?purpose=step_up`);
  // Claiming a re-authentication that did not happen does not pass.
  const claimed = await resetMember(SSO_VERIFICATION);
  assert.equal(claimed.statusCode, 403);
  assert.equal(claimed.json().error, 'verification_required');
  // Nor does a code of any kind.
  assert.equal((await resetMember({ method: 'totp', code: '123456' })).statusCode, 403);

  assert.ok(browser.cookie('_session', idp.issuer), 'the browser has a session at the provider');
  const journey = await browser.visit(`${ssoUrl}&return_to=/admin/users`, {
    user: { account: ssoAdmin.account },
  });
  const authorization = journey.hops[0]?.location as URL;
  assert.equal(authorization.searchParams.get('prompt'), 'login');
  assert.equal(authorization.searchParams.get('max_age'), '0');
  // The provider asked for the password again despite its own session.
  assert.ok(journey.hops.some((h) => /^\/interaction\/[\w-]+\/login$/.test(h.url.pathname)));
  assert.equal(journey.landed?.href, `${APP_URL}/admin/users?sso=verified`);
  // Still the same session: a step-up proves, it does not sign in anew.
  assert.equal(sessionCookieSet(journey), false);
  assert.equal(browser.cookie('portcullis_session'), token);
  const [reauthenticated] = await audit('sso.reauthenticated');
  assert.ok(reauthenticated?.details.auth_time);

  const reset = await resetMember(SSO_VERIFICATION);
  assert.equal(reset.statusCode, 204, reset.body);
  const factors = await store.db
    .selectFrom('factors')
    .select('id')
    .where('user_id', '=', member.id)
    .execute();
  assert.equal(factors.length, 0);
  // Spent: the next sensitive action needs another re-authentication.
  const again = await setMethods(SSO_VERIFICATION);
  assert.equal(again.statusCode, 403);
  assert.equal(again.json().error, 'verification_required');
  assert.deepEqual(again.json().methods, ['sso']);
});

test('a step-up with a stale auth_time is refused and records nothing', async (t) => {
  const { app, clock, ssoAdmin, browser, slug, setMethods, reauthenticatedAt } =
    await ssoAdminOrg();
  t.after(() => app.close());
  const stepUpUrl = `/api/v1/auth/sso/${slug}/start?purpose=step_up&return_to=/admin/users`;

  // The provider reports a login of ten minutes ago (it did not honour prompt=login).
  const oldLogin = await browser.visit(stepUpUrl, {
    user: { account: ssoAdmin.account, authTime: Math.floor(Date.now() / 1000) - 600 },
  });
  assertRefused(oldLogin, 'sso_failed', '/admin/users');
  assert.equal(await reauthenticatedAt(), null);

  // The provider's auth_time is older than the start of this step-up by the app's clock.
  clock.advanceSeconds(600);
  const beforeStart = await browser.visit(stepUpUrl, { user: { account: ssoAdmin.account } });
  assertRefused(beforeStart, 'sso_failed', '/admin/users');
  assert.equal(await reauthenticatedAt(), null);
  const refused = await setMethods(SSO_VERIFICATION);
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json().error, 'verification_required');
});

test('a step-up proves the session’s own user: another identity at the provider does not count', async (t) => {
  const { app, browser, slug, addSsoUser, setMethods, reauthenticatedAt, audit } =
    await ssoAdminOrg();
  t.after(() => app.close());
  const mallory = await addSsoUser('mallory');
  const journey = await browser.visit(
    `/api/v1/auth/sso/${slug}/start?purpose=step_up&return_to=/admin/users`,
    { user: { account: mallory.account } },
  );
  assertRefused(journey, 'sso_failed', '/admin/users');
  assert.equal(await reauthenticatedAt(), null);
  assert.equal((await setMethods(SSO_VERIFICATION)).statusCode, 403);
  const [refused] = await audit('sso.reauthentication_refused');
  assert.equal(refused?.details.reason, 'other_identity');
});

test('step-up start needs the SSO user’s own session in this org', async (t) => {
  const { app, slug, adminToken, token } = await ssoAdminOrg();
  t.after(() => app.close());
  const url = `/api/v1/auth/sso/${slug}/start?purpose=step_up`;
  assert.equal((await app.inject({ url })).statusCode, 401);
  // A password admin has codes, not SSO.
  assert.equal((await app.inject({ url, headers: withSession(adminToken) })).statusCode, 401);
  const other = await ssoOrg();
  t.after(() => other.app.close());
  const elsewhere = await app.inject({
    url: `/api/v1/auth/sso/${other.slug}/start?purpose=step_up`,
    headers: withSession(token),
  });
  assert.equal(elsewhere.statusCode, 401);
  assert.equal((await app.inject({ url, headers: withSession(token) })).statusCode, 302);
});

test('the first sign-in binds the provider’s subject; the same email with another subject is refused', async (t) => {
  const { app, provider, addSsoUser, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const first = await ssoSignIn({ account: alice.account });
  assert.equal(callbackOf(first.journey).status, 302);
  assert.ok(first.browser.cookie('portcullis_session'));
  const row = await store.db
    .selectFrom('users')
    .select('sso_subject')
    .where('id', '=', alice.id)
    .executeTakeFirstOrThrow();
  assert.equal(row.sso_subject, alice.account);

  // The provider gave alice's address to a new person (a new subject).
  const newcomer = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email: alice.email,
  });
  const second = await ssoSignIn({ account: newcomer });
  assertRefused(second.journey, 'sso_subject_mismatch');
  // Alice herself still signs in.
  const again = await ssoSignIn({ account: alice.account });
  assert.ok(again.browser.cookie('portcullis_session'));
});

test('a user created at the first sign-in takes the provider’s name and subject', async (t) => {
  const { app, slug, provider, ssoSignIn } = await ssoOrg({ createUsers: true });
  t.after(() => app.close());
  const email = `newbie@${slug}.test`;
  const account = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, {
    email,
    name: 'Nora Newbie',
  });
  const { browser } = await ssoSignIn({ account });
  assert.ok(browser.cookie('portcullis_session'));
  const row = await store.db
    .selectFrom('users')
    .select(['name', 'sso', 'sso_subject', 'role'])
    .where('email_key', '=', email)
    .executeTakeFirstOrThrow();
  assert.deepEqual(row, { name: 'Nora Newbie', sso: true, sso_subject: account, role: 'member' });
});
