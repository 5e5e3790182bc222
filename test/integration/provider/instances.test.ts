import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ADMIN_PASSWORD, MEMBER_PASSWORD, seedOrg, signIn } from '../../helpers/app.ts';
import {
  Browser,
  authorizationRequest,
  discover,
  listeningApp,
  registerTestApp,
} from '../../helpers/provider.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Two instances of one deployment (one PORTCULLIS_BASE_URL, one master key) behind a load
 * balancer, each with its own connection pool on one PostgreSQL: the provider's state is in the
 * database only, so what one instance issues, the other honours.
 */

const store = useTestStore();

test('a code issued through one instance redeems at another, and its tokens work there', async (t) => {
  if (!process.env.PORTCULLIS_TEST_DATABASE_URL) {
    t.skip(
      'needs PORTCULLIS_TEST_DATABASE_URL: one PGlite database belongs to one process, so there is no second instance',
    );
    return;
  }
  const one = await listeningApp(store);
  t.after(() => one.close());
  const two = await listeningApp(await store.twin(), one);
  t.after(() => two.close());

  const { org, member, admin } = await seedOrg(one.deps);
  const adminToken = await signIn(one.app, {
    org: org.slug,
    email: admin.email,
    password: ADMIN_PASSWORD,
  });
  const app = await registerTestApp(one, adminToken);
  const config = await discover(one.issuerOf(org.slug), app.clientId, app.clientSecret!);
  const memberToken = await signIn(one.app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const browser = new Browser(one.base);
  browser.setCookie('portcullis_session', memberToken);
  const request = await authorizationRequest(config);
  const { stop } = await browser.follow(request.url);
  assert.ok(stop.searchParams.get('code'), `no code: ${stop}`);

  // From here on, every request of the app reaches the second instance.
  const seen: string[] = [];
  config[oidc.customFetch] = (url, options) => {
    const rerouted = url.replace(one.listening, two.listening);
    seen.push(new URL(rerouted).port);
    return fetch(rerouted, options);
  };
  const tokens = await oidc.authorizationCodeGrant(config, stop, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
  assert.equal(tokens.claims()!.sub, member.id);
  assert.equal(tokens.claims()!.iss, one.issuerOf(org.slug));
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, member.id);
  assert.equal(userinfo.email, member.email);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  assert.ok(refreshed.access_token);
  assert.deepEqual(new Set(seen), new Set([new URL(two.listening).port]));

  // The code redeemed at the second instance is spent at the first one too.
  config[oidc.customFetch] = (url, options) => fetch(url, options);
  await assert.rejects(
    oidc.authorizationCodeGrant(config, stop, {
      pkceCodeVerifier: request.verifier,
      expectedNonce: request.nonce,
      expectedState: request.state,
    }),
    (error: { error?: string }) => error.error === 'invalid_grant',
  );
});
