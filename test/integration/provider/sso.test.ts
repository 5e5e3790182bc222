import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ADMIN_PASSWORD, signIn } from '../../helpers/app.ts';
import {
  APP_CALLBACK,
  Browser,
  authorizationRequest,
  redeem,
  discover,
  listeningApp,
  registerTestApp,
} from '../../helpers/provider.ts';
import { APP_URL, useSsoTestbed } from '../../helpers/sso.ts';

/*
 * SSO users at an org's issuer: signed in through the org's identity provider, they are never
 * asked for a local factor, even under Required; their acr is what their provider reported.
 */

const { store, ssoOrg } = useSsoTestbed();
const MFA = 'urn:portcullis:acr:mfa';

/** An org connected to the test identity provider, under Required, and its issuer served. */
async function testbed(t: { after(fn: () => unknown): void }) {
  const sso = await ssoOrg();
  // The SSO sign-in runs in-process at APP_URL (the provider's registered callback); the issuer
  // is served over HTTP by a second instance on the same store, as apps would reach it.
  const served = await listeningApp(store);
  t.after(() => served.close());
  const adminToken = await signIn(served.app, {
    org: sso.slug,
    email: sso.admin.email,
    password: ADMIN_PASSWORD,
  });
  const app = await registerTestApp(served, adminToken);
  const config = await discover(served.issuerOf(sso.slug), app.clientId, app.clientSecret!);
  // Required from here on (the admin registered the app before it, with a password alone).
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', sso.org.id)
    .execute();
  return { sso, served, config };
}

async function ssoSession(
  sso: Awaited<ReturnType<typeof ssoOrg>>,
  local: string,
  amr: string[],
): Promise<{ id: string; token: string }> {
  const user = await sso.addSsoUser(local);
  const { journey, browser } = await sso.ssoSignIn({ account: user.account, amr });
  assert.equal(journey.landed?.href, `${APP_URL}/`);
  return { id: user.id, token: browser.cookie('portcullis_session') as string };
}

test('under Required, an SSO user gets a code without a local factor, stated as federated', async (t) => {
  const { sso, served, config } = await testbed(t);
  const user = await ssoSession(sso, 'sam', ['pwd']);
  const browser = new Browser(served.base);
  browser.setCookie('portcullis_session', user.token);
  const request = await authorizationRequest(config);
  const { stop } = await browser.follow(request.url);
  assert.equal(`${stop.origin}${stop.pathname}`, APP_CALLBACK, `stopped at ${stop}`);
  const tokens = await redeem(config, stop, request);
  const claims = tokens.claims()!;
  assert.equal(claims.sub, user.id);
  assert.equal(claims.acr, 'urn:portcullis:acr:1fa');
  assert.deepEqual(claims.amr, ['fed', 'pwd']);
  // The org's own provider may assert any address: Portcullis never vouches for it.
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  assert.equal(userinfo.email_verified, false);

  // Asked for MFA the provider did not report: no local factor and no enrollment, the app is told.
  const strong = await authorizationRequest(config, { acr_values: MFA });
  const refused = await browser.follow(strong.url);
  assert.equal(refused.stop.searchParams.get('error'), 'unmet_authentication_requirements');
  assert.equal(refused.stop.searchParams.get('code'), null);
});

test('an SSO user whose provider reported MFA meets acr_values=mfa', async (t) => {
  const { sso, served, config } = await testbed(t);
  const user = await ssoSession(sso, 'ria', ['pwd', 'otp']);
  const browser = new Browser(served.base);
  browser.setCookie('portcullis_session', user.token);
  const request = await authorizationRequest(config, { acr_values: MFA });
  const { stop } = await browser.follow(request.url);
  assert.ok(stop.searchParams.get('code'), `no code: ${stop}`);
  const claims = (await redeem(config, stop, request)).claims()!;
  assert.equal(claims.acr, MFA);
  assert.deepEqual(claims.amr, ['fed', 'pwd', 'otp', 'mfa']);
});
