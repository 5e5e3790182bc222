import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MEMBER_PASSWORD, signIn, withSession } from '../../helpers/app.ts';
import { enrollTotp } from '../../helpers/mfa.ts';
import { APP_URL, assertRefused, callbackOf, useSsoTestbed } from '../../helpers/sso.ts';

/*
 * Which local account an identity at the provider signs into: bound to the provider's subject at
 * the first sign-in, created then only where the org allows it, never linked to a password
 * account silently; and an admin converting a password user to SSO.
 */

const { store, ssoOrg, sessionsOf } = useSsoTestbed();

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
