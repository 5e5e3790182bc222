import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ADMIN_PASSWORD, MEMBER_PASSWORD, seedOrg, signIn } from '../../helpers/app.ts';
import {
  APP_CALLBACK,
  Browser,
  authorizationRequest,
  discover,
  listeningApp,
  registerTestApp,
} from '../../helpers/provider.ts';
import { useTestStore } from '../../helpers/store.ts';
import {
  invalidateOrgSessions,
  invalidateUserSessions,
} from '../../../src/services/session/sessions.ts';

/*
 * An app signs its users in through its org's issuer, with openid-client as the relying party over
 * real HTTP: authorization code with PKCE, the ID token checked, refresh tokens rotated.
 */

const store = useTestStore();

async function testbed(t: { after(fn: () => unknown): void }) {
  const served = await listeningApp(store);
  t.after(() => served.close());
  const seeded = await seedOrg(served.deps);
  const adminToken = await signIn(served.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  const memberToken = await signIn(served.app, {
    org: seeded.org.slug,
    email: seeded.member.email,
    password: MEMBER_PASSWORD,
  });
  const issuer = served.issuerOf(seeded.org.slug);
  const app = await registerTestApp(served, adminToken);
  const config = await discover(issuer, app.clientId, app.clientSecret!);
  /** A browser signed in to the console as the member. */
  const memberBrowser = () => {
    const browser = new Browser(served.base);
    browser.setCookie('portcullis_session', memberToken);
    return browser;
  };
  return { served, ...seeded, adminToken, memberToken, issuer, app, config, memberBrowser };
}

/** Follows an authorization request to the app's callback, which must carry a code. */
async function codeCallback(browser: Browser, url: URL): Promise<URL> {
  const { stop, status, body } = await browser.follow(url);
  assert.equal(
    `${stop.origin}${stop.pathname}`,
    APP_CALLBACK,
    `stopped at ${stop} ${status} ${body}`,
  );
  assert.ok(stop.searchParams.get('code'), `no code: ${stop}`);
  return stop;
}

/** What the provider has issued to an app that is still stored: codes, tokens, grants. */
async function issuedTo(clientId: string, models = ['AccessToken', 'RefreshToken']) {
  const rows = await store.db
    .selectFrom('oidc_payloads')
    .select(['model', 'payload'])
    .where('model', 'in', models)
    .execute();
  return rows.filter((row) => row.payload.clientId === clientId).map((row) => row.model);
}

test('a signed-in member passes straight through: the ID token is signed by the org, for the app, with the nonce and the session’s facts', async (t) => {
  const { issuer, member, config, memberBrowser, app } = await testbed(t);
  const request = await authorizationRequest(config);
  const callback = await codeCallback(memberBrowser(), request.url);
  assert.equal(callback.searchParams.get('iss'), issuer);

  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
  const claims = tokens.claims()!;
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, app.clientId);
  assert.equal(claims.sub, member.id);
  assert.equal(claims.nonce, request.nonce);
  assert.equal(claims.acr, 'urn:portcullis:acr:1fa');
  assert.deepEqual(claims.amr, ['pwd']);
  const session = await store.db
    .selectFrom('sessions')
    .select('auth_time')
    .where('user_id', '=', member.id)
    .executeTakeFirstOrThrow();
  assert.equal(claims.auth_time, Math.floor(session.auth_time.getTime() / 1000));

  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, member.id);
  assert.equal(userinfo.email, member.email);
  assert.equal(userinfo.name, member.name);
  assert.equal(userinfo.email_verified, false);
});

test('a code redeems once: the replay is refused and revokes the tokens the first redemption got', async (t) => {
  const { config, memberBrowser, member, app } = await testbed(t);
  const request = await authorizationRequest(config);
  const callback = await codeCallback(memberBrowser(), request.url);
  const checks = {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  };
  const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
  assert.deepEqual((await issuedTo(app.clientId)).sort(), ['AccessToken', 'RefreshToken']);

  await assert.rejects(oidc.authorizationCodeGrant(config, callback, checks), (error: Error) => {
    assert.equal((error as { error?: string }).error, 'invalid_grant');
    return true;
  });
  assert.deepEqual(await issuedTo(app.clientId), []);
  await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, member.id));
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!));
});

test('a wrong PKCE verifier gets nothing, and the code still serves its owner', async (t) => {
  const { config, memberBrowser, app } = await testbed(t);
  const request = await authorizationRequest(config);
  const callback = await codeCallback(memberBrowser(), request.url);
  const wrong = oidc.randomPKCECodeVerifier();
  await assert.rejects(
    oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: wrong,
      expectedNonce: request.nonce,
      expectedState: request.state,
    }),
    (error: Error) => (error as { error?: string }).error === 'invalid_grant',
  );
  assert.deepEqual(await issuedTo(app.clientId), []);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
  assert.ok(tokens.access_token);
});

test('a redirect URI the app did not register is refused at the provider, and nothing is sent there', async (t) => {
  const { config, memberBrowser, app } = await testbed(t);
  for (const redirect_uri of [
    'http://127.0.0.1:9/callback/other',
    'http://127.0.0.1:9/callback?x=1',
    'http://127.0.0.1:10/callback',
    'https://evil.example/callback',
  ]) {
    const request = await authorizationRequest(config, { redirect_uri });
    const { stop, status, body } = await memberBrowser().follow(request.url);
    assert.equal(stop.origin, new URL(request.url).origin, `went to ${stop}`);
    assert.equal(status, 400, body);
    assert.match(body, /redirect_uri/);
  }
  assert.deepEqual(await issuedTo(app.clientId, ['AuthorizationCode', 'AccessToken']), []);
});

test('an authorization request without PKCE is refused; a public app must use it', async (t) => {
  const { served, adminToken, issuer, memberBrowser, config } = await testbed(t);
  const publicApp = await registerTestApp(served, adminToken, { public: true });
  const publicConfig = await discover(issuer, publicApp.clientId);
  for (const each of [publicConfig, config]) {
    const url = oidc.buildAuthorizationUrl(each, {
      redirect_uri: APP_CALLBACK,
      scope: 'openid',
      nonce: oidc.randomNonce(),
    });
    const { stop } = await memberBrowser().follow(url);
    assert.equal(`${stop.origin}${stop.pathname}`, APP_CALLBACK);
    assert.equal(stop.searchParams.get('code'), null);
    assert.equal(stop.searchParams.get('error'), 'invalid_request');
    assert.match(stop.searchParams.get('error_description') ?? '', /PKCE/);
  }
  // With PKCE, the public app signs in and redeems its code without a secret.
  const request = await authorizationRequest(publicConfig);
  const callback = await codeCallback(memberBrowser(), request.url);
  const tokens = await oidc.authorizationCodeGrant(publicConfig, callback, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
  assert.ok(tokens.access_token);
});

test('an app of another org is unknown at this org’s issuer, and its codes redeem nowhere else', async (t) => {
  const { served, issuer, memberBrowser, config, app } = await testbed(t);
  const other = await seedOrg(served.deps);
  const otherAdmin = await signIn(served.app, {
    org: other.org.slug,
    email: other.admin.email,
    password: ADMIN_PASSWORD,
  });
  const otherApp = await registerTestApp(served, otherAdmin);
  const stranger = await discover(issuer, otherApp.clientId, otherApp.clientSecret!);
  const request = await authorizationRequest(stranger);
  const { stop, status, body } = await memberBrowser().follow(request.url);
  assert.equal(stop.origin, new URL(issuer).origin, `went to ${stop}`);
  assert.equal(status, 400);
  assert.match(body, /invalid_client/);
  assert.deepEqual(await issuedTo(otherApp.clientId, ['AuthorizationCode']), []);

  // A code of this org's app, taken to the other org's token endpoint, is not found there.
  const own = await authorizationRequest(config);
  const callback = await codeCallback(memberBrowser(), own.url);
  const otherIssuer = served.issuerOf(other.org.slug);
  const elsewhere = await discover(otherIssuer, otherApp.clientId, otherApp.clientSecret!);
  const taken = new URL(callback);
  taken.searchParams.set('iss', otherIssuer);
  await assert.rejects(
    oidc.authorizationCodeGrant(elsewhere, taken, {
      pkceCodeVerifier: own.verifier,
      expectedNonce: own.nonce,
      expectedState: own.state,
    }),
    (error: Error) => (error as { error?: string }).error === 'invalid_grant',
  );
  assert.deepEqual(await issuedTo(otherApp.clientId), []);
  assert.deepEqual(await issuedTo(app.clientId), []);
});

test('refresh tokens rotate: each is used once, and a reused one revokes the grant', async (t) => {
  const { config, memberBrowser } = await testbed(t);
  const request = await authorizationRequest(config);
  const callback = await codeCallback(memberBrowser(), request.url);
  const first = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
  assert.ok(first.refresh_token);
  const second = await oidc.refreshTokenGrant(config, first.refresh_token);
  assert.ok(second.refresh_token);
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.notEqual(second.access_token, first.access_token);

  await assert.rejects(
    oidc.refreshTokenGrant(config, first.refresh_token),
    (error: Error) => (error as { error?: string }).error === 'invalid_grant',
  );
  // The replay revoked the grant: the rotated token is dead too.
  await assert.rejects(
    oidc.refreshTokenGrant(config, second.refresh_token),
    (error: Error) => (error as { error?: string }).error === 'invalid_grant',
  );
});

test('an app’s tokens end with the user’s sessions: one user’s revocation, then the whole org’s', async (t) => {
  const { served, org, admin, member, config, memberBrowser, adminToken } = await testbed(t);
  const tokensOf = async (browser: Browser) => {
    const request = await authorizationRequest(config);
    const callback = await codeCallback(browser, request.url);
    return oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.verifier,
      expectedNonce: request.nonce,
      expectedState: request.state,
    });
  };
  const isInvalidGrant = (error: Error) => (error as { error?: string }).error === 'invalid_grant';
  const adminBrowser = new Browser(served.base);
  adminBrowser.setCookie('portcullis_session', adminToken);
  const memberTokens = await tokensOf(memberBrowser());
  const adminTokens = await tokensOf(adminBrowser);

  await invalidateUserSessions(served.deps, {
    orgId: org.id,
    userId: member.id,
    actorUserId: null,
    reason: 'operator',
  });
  await assert.rejects(oidc.refreshTokenGrant(config, memberTokens.refresh_token!), isInvalidGrant);
  await assert.rejects(oidc.fetchUserInfo(config, memberTokens.access_token, member.id));
  // Another user's tokens live on.
  const refreshed = await oidc.refreshTokenGrant(config, adminTokens.refresh_token!);
  assert.ok(refreshed.access_token);

  await invalidateOrgSessions(served.deps, {
    orgId: org.id,
    actorUserId: null,
    reason: 'operator',
  });
  await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), isInvalidGrant);
  await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, admin.id));
});

test('an app introspects and revokes its own tokens only, never another app’s of the same org', async (t) => {
  const { served, issuer, member, config, memberBrowser, adminToken } = await testbed(t);
  const other = await registerTestApp(served, adminToken);
  const otherConfig = await discover(issuer, other.clientId, other.clientSecret!);
  const request = await authorizationRequest(config);
  const callback = await codeCallback(memberBrowser(), request.url);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });

  assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);
  assert.equal((await oidc.tokenIntrospection(otherConfig, tokens.access_token)).active, false);
  await oidc.tokenRevocation(otherConfig, tokens.access_token);
  await oidc.tokenRevocation(otherConfig, tokens.refresh_token!);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, member.id);
  assert.equal(userinfo.sub, member.id);
  assert.ok((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token);
});
