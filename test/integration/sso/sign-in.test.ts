import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashToken } from '../../../src/core/tokens.ts';
import { MEMBER_PASSWORD, sessionCookieOf, withSession } from '../../helpers/app.ts';
import {
  APP_URL,
  CALLBACK_URL,
  assertRefused,
  callbackOf,
  useSsoTestbed,
} from '../../helpers/sso.ts';

/*
 * Signing in through the identity provider: the session it makes, a sign-in cancelled at the
 * provider, no MFA prompt for SSO users, and no password for them either.
 */

const { store, idp, ssoOrg, sessionsOf } = useSsoTestbed();

test('an SSO user signs in through the provider: authenticated session, acr/amr/auth_time recorded', async (t) => {
  const { app, slug, clock, addSsoUser, ssoSignIn, audit, startPath } = await ssoOrg();
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
  assert.ok(session);
  assert.equal(session.acr, 'urn:portcullis:acr:mfa');
  assert.deepEqual(session.amr, ['fed', 'pwd', 'otp', 'mfa']);

  const [event] = await audit('sso.login_succeeded');
  assert.ok(event);
  assert.deepEqual(event.details, {
    auth_time: event.details.auth_time,
    acr: 'urn:test:loa:2',
    amr: ['pwd', 'otp'],
  });
  const authTime = Date.parse(event.details.auth_time as string) / 1000;
  assert.ok(authTime >= before - 1 && authTime <= Date.now() / 1000 + 1, String(authTime));
  // The session takes the provider's auth_time, never later than the app's own clock.
  assert.equal(session.auth_time.getTime(), Math.min(authTime * 1000, clock.now().getTime()));
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
