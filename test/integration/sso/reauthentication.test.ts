import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withSession } from '../../helpers/app.ts';
import {
  APP_URL,
  SSO_VERIFICATION,
  assertRefused,
  sessionCookieSet,
  useSsoTestbed,
} from '../../helpers/sso.ts';

/*
 * Step-up for SSO users: a fresh sign-in at the provider (prompt=login, max_age=0) by the
 * session's own user, which serves one sensitive action.
 */

const { store, idp, ssoOrg, ssoAdminOrg } = useSsoTestbed();

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
