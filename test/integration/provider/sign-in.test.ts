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
import type { ManualClock } from '../../helpers/clock.ts';
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
 * The sign-in inside an app's authorization request is the console's: a console session that
 * meets the request passes straight through; anything else goes to the console's sign-in and
 * comes back, or is refused, never signed in from a session that ended, is pending, or belongs to
 * another org.
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
  const issuer = served.issuerOf(seeded.org.slug);
  const app = await registerTestApp(served, adminToken);
  const config = await discover(issuer, app.clientId, app.clientSecret!);
  const signInMember = () =>
    signIn(served.app, {
      org: seeded.org.slug,
      email: seeded.member.email,
      password: MEMBER_PASSWORD,
    });
  const browserWith = (token?: string) => {
    const browser = new Browser(served.base);
    if (token) browser.setCookie('portcullis_session', token);
    return browser;
  };
  return { served, ...seeded, issuer, app, config, signInMember, browserWith };
}

function atCallback(stop: URL): boolean {
  return `${stop.origin}${stop.pathname}` === APP_CALLBACK;
}

test('without a console session the browser goes to the console’s sign-in, and comes back with a code once signed in', async (t) => {
  const { org, member, config, signInMember, browserWith } = await testbed(t);
  const browser = browserWith();
  const request = await authorizationRequest(config);
  const first = await browser.follow(request.url);
  assert.equal(first.stop.pathname, '/sign-in');
  const next = first.stop.searchParams.get('next')!;
  assert.match(next, new RegExp(`^/oidc/${org.slug}/interaction/[\\w-]+$`));

  browser.setCookie('portcullis_session', await signInMember());
  const back = await browser.follow(next);
  assert.ok(atCallback(back.stop), `stopped at ${back.stop}`);
  const tokens = await redeem(config, back.stop, request);
  assert.equal(tokens.claims()!.sub, member.id);
});

test('a console session of another org, or one still waiting for its second factor, signs nobody in', async (t) => {
  const { served, org, config, browserWith } = await testbed(t);
  const other = await seedOrg(served.deps);
  const otherToken = await signIn(served.app, {
    org: other.org.slug,
    email: other.member.email,
    password: MEMBER_PASSWORD,
  });
  const request = await authorizationRequest(config);
  const elsewhere = await browserWith(otherToken).follow(request.url);
  assert.equal(elsewhere.stop.pathname, '/sign-in');

  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', org.id)
    .execute();
  const pending = await served.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: `member@${org.slug}.test`, password: MEMBER_PASSWORD },
  });
  assert.equal(pending.json().status, 'enrollment_required');
  const halfway = await browserWith(sessionCookieOf(pending)).follow(
    (await authorizationRequest(config)).url,
  );
  // Sent to enroll its factor first (step-up.test.ts follows it to the end), with no code.
  assert.equal(halfway.stop.pathname, '/enroll');
});

test('once the console session ends, the provider’s own session signs nobody in', async (t) => {
  const { served, config, signInMember, browserWith } = await testbed(t);
  const token = await signInMember();
  const browser = browserWith(token);
  const first = await browser.follow((await authorizationRequest(config)).url);
  assert.ok(atCallback(first.stop));
  // Signed in again at once while the console session lives (no visit to the console).
  const again = await browser.follow((await authorizationRequest(config)).url);
  assert.ok(atCallback(again.stop));

  const logout = await served.app.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: withSession(token),
  });
  assert.equal(logout.statusCode, 204);
  const after = await browser.follow((await authorizationRequest(config)).url);
  assert.equal(after.stop.pathname, '/sign-in');
  const silent = await browser.follow((await authorizationRequest(config, { prompt: 'none' })).url);
  assert.ok(atCallback(silent.stop));
  assert.equal(silent.stop.searchParams.get('error'), 'login_required');
  assert.equal(silent.stop.searchParams.get('code'), null);
});

async function mfaSession(
  served: { app: Parameters<typeof enrollTotp>[0]; clock: ManualClock },
  orgId: string,
  signInMember: () => Promise<string>,
) {
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', orgId)
    .execute();
  const { secret } = await enrollTotp(served.app, await signInMember(), served.clock);
  const pending = await signInMember();
  const verified = await verify(
    served.app,
    pending,
    'totp',
    authenticatorCode(secret, served.clock),
  );
  assert.equal(verified.statusCode, 200, verified.body);
  return sessionCookieOf(verified);
}

test('an app asking for MFA gets it from an MFA session, and an error, not a code, from a password-only one', async (t) => {
  const { served, org, config, signInMember, browserWith } = await testbed(t);
  const mfa = 'urn:portcullis:acr:mfa';
  const weak = await browserWith(await signInMember()).follow(
    (await authorizationRequest(config, { acr_values: mfa })).url,
  );
  assert.ok(atCallback(weak.stop), `stopped at ${weak.stop}`);
  assert.equal(weak.stop.searchParams.get('error'), 'unmet_authentication_requirements');
  assert.equal(weak.stop.searchParams.get('code'), null);

  const strong = await mfaSession(served, org.id, signInMember);
  const extras: Record<string, string>[] = [
    { acr_values: mfa },
    { claims: JSON.stringify({ id_token: { acr: { essential: true, value: mfa } } }) },
  ];
  for (const extra of extras) {
    const request = await authorizationRequest(config, extra);
    const { stop } = await browserWith(strong).follow(request.url);
    assert.ok(stop.searchParams.get('code'), `no code: ${stop}`);
    const claims = (await redeem(config, stop, request)).claims()!;
    assert.equal(claims.acr, mfa);
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
  }
});

test('a session older than max_age gets an error, not a code', async (t) => {
  const { served, config, signInMember, browserWith } = await testbed(t);
  const token = await signInMember();
  served.clock.advanceSeconds(120);
  const request = await authorizationRequest(config, { max_age: '60' });
  const { stop } = await browserWith(token).follow(request.url);
  assert.equal(stop.searchParams.get('error'), 'unmet_authentication_requirements');
  const recent = await authorizationRequest(config, { max_age: '600' });
  const ok = await browserWith(token).follow(recent.url);
  assert.ok(ok.stop.searchParams.get('code'), `no code: ${ok.stop}`);
});

test('bad input to the provider’s endpoints gets a 4xx, never a 5xx', async (t) => {
  const { served, issuer, org } = await testbed(t);
  const probes: [string, RequestInit][] = [
    [`${issuer}/auth`, {}],
    [`${issuer}/auth?client_id=nobody&response_type=code&scope=openid`, {}],
    [
      `${issuer}/token`,
      {
        method: 'POST',
        body: '{"grant_type":"authorization_code"}',
        headers: { 'content-type': 'application/json' },
      },
    ],
    [
      `${issuer}/token`,
      {
        method: 'POST',
        body: 'grant_type=authorization_code&code=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ],
    [
      `${issuer}/token`,
      {
        method: 'POST',
        body: '%%%',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ],
    [`${issuer}/me`, { headers: { authorization: 'Bearer nonsense' } }],
    [
      `${issuer}/token/introspection`,
      {
        method: 'POST',
        body: 'token=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ],
    [`${issuer}/interaction/unknown`, {}],
    [`${served.base}/oidc/${org.slug}/interaction/${'x'.repeat(5000)}`, {}],
    [`${served.base}/oidc/no-such-org/auth`, {}],
    [`${served.base}/oidc/${org.slug.toUpperCase()}/jwks`, {}],
  ];
  for (const [url, init] of probes) {
    const response = await fetch(url, { redirect: 'manual', ...init });
    await response.body?.cancel();
    assert.ok(
      response.status >= 400 && response.status < 500,
      `${init.method ?? 'GET'} ${url}: ${response.status}`,
    );
  }
});
