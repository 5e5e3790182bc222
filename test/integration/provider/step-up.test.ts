import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  seedOrg,
  sessionCookieOf,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, verify } from '../../helpers/mfa.ts';
import {
  APP_CALLBACK,
  Browser,
  authorizationRequest,
  redeem,
  discover,
  listeningApp,
  registerTestApp,
} from '../../helpers/provider.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Step-up inside an app's authorization request (RFC 9470): a session that does not meet the
 * request's acr_values or max_age is sent to the console's verification screen, and a code is
 * issued only once a fresh second factor is verified; a user with nothing to verify with gets
 * unmet_authentication_requirements at the app, never a loop.
 */

const store = useTestStore();
const MFA = 'urn:portcullis:acr:mfa';

async function testbed(t: { after(fn: () => unknown): void }) {
  const served = await listeningApp(store);
  t.after(() => served.close());
  const seeded = await seedOrg(served.deps);
  const adminToken = await signIn(served.app, {
    org: seeded.org.slug,
    email: seeded.admin.email,
    password: ADMIN_PASSWORD,
  });
  const app = await registerTestApp(served, adminToken);
  const config = await discover(served.issuerOf(seeded.org.slug), app.clientId, app.clientSecret!);
  const signInMember = () =>
    signIn(served.app, {
      org: seeded.org.slug,
      email: seeded.member.email,
      password: MEMBER_PASSWORD,
    });
  const setPolicy = (policy: 'disabled' | 'enabled' | 'required') =>
    store.db
      .updateTable('orgs')
      .set({ mfa_policy: policy })
      .where('id', '=', seeded.org.id)
      .execute();
  const browserWith = (token: string) => {
    const browser = new Browser(served.base);
    browser.setCookie('portcullis_session', token);
    return browser;
  };
  const reauthenticate = (token: string, payload: Record<string, string>) =>
    served.app.inject({
      method: 'POST',
      url: '/api/v1/auth/reauthenticate',
      headers: withSession(token),
      payload,
    });
  return { served, ...seeded, config, signInMember, setPolicy, browserWith, reauthenticate };
}

function atCallback(stop: URL): boolean {
  return `${stop.origin}${stop.pathname}` === APP_CALLBACK;
}

/** The console's verification screen, and the interaction it sends the browser back to. */
function atVerification(stop: URL, orgSlug: string): string {
  assert.equal(stop.pathname, '/verify', `stopped at ${stop}`);
  assert.equal(stop.searchParams.get('reauthenticate'), '1');
  const next = stop.searchParams.get('next')!;
  assert.match(next, new RegExp(`^/oidc/${orgSlug}/interaction/[\\w-]+$`));
  return next;
}

test('with an MFA session, acr_values=mfa and max_age=0 issue no code until a fresh factor is verified; then auth_time is later', async (t) => {
  const { served, org, config, signInMember, setPolicy, browserWith, reauthenticate } =
    await testbed(t);
  await setPolicy('enabled');
  const { secret } = await enrollTotp(served.app, await signInMember(), served.clock);
  const pending = await signInMember();
  const verified = await verify(
    served.app,
    pending,
    'totp',
    authenticatorCode(secret, served.clock),
  );
  assert.equal(verified.statusCode, 200, verified.body);
  const token = sessionCookieOf(verified);
  const browser = browserWith(token);

  // The session meets acr_values=mfa alone: straight through.
  const plain = await authorizationRequest(config, { acr_values: MFA });
  const first = await browser.follow(plain.url);
  assert.ok(first.stop.searchParams.get('code'), `no code: ${first.stop}`);
  const before = (await redeem(config, first.stop, plain)).claims()!;
  assert.equal(before.acr, MFA);

  served.clock.advanceSeconds(120);
  const fresh = await authorizationRequest(config, { acr_values: MFA, max_age: '0' });
  const asked = await browser.follow(fresh.url);
  const next = atVerification(asked.stop, org.slug);
  // Back at the interaction without a verification: still no code, the same screen again.
  const unverified = await browser.follow(next);
  assert.equal(atVerification(unverified.stop, org.slug), next);

  const wrong = await reauthenticate(token, { method: 'totp', code: '000000' });
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().error, 'invalid_code');
  assert.equal(atVerification((await browser.follow(next)).stop, org.slug), next);

  const right = await reauthenticate(token, {
    method: 'totp',
    code: authenticatorCode(secret, served.clock),
  });
  assert.equal(right.statusCode, 200, right.body);
  const back = await browser.follow(next);
  assert.ok(atCallback(back.stop), `stopped at ${back.stop}`);
  assert.ok(back.stop.searchParams.get('code'), `no code: ${back.stop}`);
  const after = (await redeem(config, back.stop, fresh)).claims()!;
  assert.equal(after.acr, MFA);
  assert.deepEqual(after.amr, ['pwd', 'otp', 'mfa']);
  assert.ok(
    (after.auth_time as number) >= (before.auth_time as number) + 120,
    `auth_time ${after.auth_time} not later than ${before.auth_time}`,
  );
});

test('a password-only session of a user with a factor is asked for it, and then gets an MFA code', async (t) => {
  const { served, org, config, signInMember, setPolicy, browserWith, reauthenticate } =
    await testbed(t);
  await setPolicy('enabled');
  // Signed in before having a factor: the session states the password only.
  const token = await signInMember();
  const { secret } = await enrollTotp(served.app, token, served.clock);
  const browser = browserWith(token);
  const request = await authorizationRequest(config, { acr_values: MFA });
  const next = atVerification((await browser.follow(request.url)).stop, org.slug);

  const right = await reauthenticate(token, {
    method: 'totp',
    code: authenticatorCode(secret, served.clock),
  });
  assert.equal(right.statusCode, 200, right.body);
  const back = await browser.follow(next);
  assert.ok(back.stop.searchParams.get('code'), `no code: ${back.stop}`);
  const claims = (await redeem(config, back.stop, request)).claims()!;
  assert.equal(claims.acr, MFA);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
});

test('a user with nothing to verify with gets unmet_authentication_requirements, not the verification screen', async (t) => {
  const { config, signInMember, browserWith, reauthenticate } = await testbed(t);
  // MFA is off in the org (as seeded): the member has no second factor to prove.
  const token = await signInMember();
  const extras: Record<string, string>[] = [{ acr_values: MFA }, { acr_values: MFA, max_age: '0' }];
  for (const extra of extras) {
    const request = await authorizationRequest(config, extra);
    const { stop } = await browserWith(token).follow(request.url);
    assert.ok(atCallback(stop), `stopped at ${stop}`);
    assert.equal(stop.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(stop.searchParams.get('code'), null);
  }
  const nothing = await reauthenticate(token, { method: 'totp', code: '123456' });
  assert.equal(nothing.statusCode, 409);
  assert.equal(nothing.json().error, 'no_second_factor');
});

test('an acr Portcullis does not know is unmet at once, even for a user with a factor', async (t) => {
  const { served, config, signInMember, setPolicy, browserWith } = await testbed(t);
  await setPolicy('enabled');
  const token = await signInMember();
  await enrollTotp(served.app, token, served.clock);
  const request = await authorizationRequest(config, { acr_values: 'urn:example:acr:gold' });
  const { stop } = await browserWith(token).follow(request.url);
  assert.ok(atCallback(stop), `stopped at ${stop}`);
  assert.equal(stop.searchParams.get('error'), 'unmet_authentication_requirements');
});

test('under Required, a user without a factor enrolls inside the flow before any code is issued', async (t) => {
  const { served, org, member, config, signInMember, setPolicy, browserWith } = await testbed(t);
  await setPolicy('required');
  const token = await signInMember();
  const browser = browserWith(token);
  const request = await authorizationRequest(config);
  const asked = await browser.follow(request.url);
  assert.equal(asked.stop.pathname, '/enroll', `stopped at ${asked.stop}`);
  const next = asked.stop.searchParams.get('next')!;
  assert.match(next, new RegExp(`^/oidc/${org.slug}/interaction/[\\w-]+$`));
  // Back without enrolling: the enrollment again, no code.
  const again = await browser.follow(next);
  assert.equal(again.stop.pathname, '/enroll');
  assert.equal(again.stop.searchParams.get('next'), next);

  const enrolled = await enrollTotp(served.app, token, served.clock);
  browser.setCookie('portcullis_session', enrolled.token);
  const back = await browser.follow(next);
  assert.ok(atCallback(back.stop), `stopped at ${back.stop}`);
  const claims = (await redeem(config, back.stop, request)).claims()!;
  assert.equal(claims.sub, member.id);
  assert.equal(claims.acr, MFA);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
});

test('under Enabled, a user without a factor asked for MFA enrolls one, proves it, and gets an MFA code', async (t) => {
  const { served, org, config, signInMember, setPolicy, browserWith, reauthenticate } =
    await testbed(t);
  await setPolicy('enabled');
  const token = await signInMember();
  const browser = browserWith(token);
  const request = await authorizationRequest(config, { acr_values: MFA });
  const asked = await browser.follow(request.url);
  assert.equal(asked.stop.pathname, '/enroll', `stopped at ${asked.stop}`);
  const next = asked.stop.searchParams.get('next')!;

  const { secret } = await enrollTotp(served.app, token, served.clock);
  // Adding a factor to a signed-in session does not make it an MFA session: it is proven next.
  assert.equal(atVerification((await browser.follow(next)).stop, org.slug), next);
  const right = await reauthenticate(token, {
    method: 'totp',
    code: authenticatorCode(secret, served.clock),
  });
  assert.equal(right.statusCode, 200, right.body);
  const back = await browser.follow(next);
  assert.ok(back.stop.searchParams.get('code'), `no code: ${back.stop}`);
  assert.equal((await redeem(config, back.stop, request)).claims()!.acr, MFA);
});

test('a factor enrolled inside the flow is the fresh authentication that max_age=0 asks for', async (t) => {
  const { served, config, signInMember, setPolicy, browserWith } = await testbed(t);
  await setPolicy('required');
  const token = await signInMember();
  const browser = browserWith(token);
  const request = await authorizationRequest(config, { max_age: '0' });
  const asked = await browser.follow(request.url);
  assert.equal(asked.stop.pathname, '/enroll', `stopped at ${asked.stop}`);
  const enrolled = await enrollTotp(served.app, token, served.clock);
  browser.setCookie('portcullis_session', enrolled.token);
  // Not asked for the factor again: the enrollment proved it after the request was made.
  const back = await browser.follow(asked.stop.searchParams.get('next')!);
  assert.ok(back.stop.searchParams.get('code'), `no code: ${back.stop}`);
  assert.equal((await redeem(config, back.stop, request)).claims()!.acr, MFA);
});
