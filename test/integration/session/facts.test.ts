import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { openStore } from '../../../src/store/db.ts';
import { migrateBefore } from '../../../src/store/migrate.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  sessionCookieOf,
  seedOrg,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, verify } from '../../helpers/mfa.ts';
import { APP_URL, sessionCookieSet, useSsoTestbed } from '../../helpers/sso.ts';
import { Browser } from '../../helpers/oidc-provider.ts';

/*
 * Every session knows how its user authenticated: auth_time, acr and amr, answered by GET /me.
 * A sign-in sets them, a factor proven later adds to them, a rotation keeps them. A session that
 * ends while a request runs stays ended.
 */

const { store, ssoOrg } = useSsoTestbed();

const ONE_FACTOR = { acr: 'urn:portcullis:acr:1fa', amr: ['pwd'] };
const TWO_FACTORS = { acr: 'urn:portcullis:acr:mfa', amr: ['pwd', 'otp', 'mfa'] };

async function factsOf(app: FastifyInstance, token: string) {
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.equal(me.statusCode, 200, me.body);
  return me.json().authentication;
}

function post(app: FastifyInstance, token: string, url: string, payload: object = {}) {
  return app.inject({ method: 'POST', url: `/api/v1${url}`, headers: withSession(token), payload });
}

/**
 * A member of an org where MFA is on, signed in with the password and then enrolled with an
 * authenticator app in that session.
 */
async function totpMember() {
  const testApp = await createTestApp(store);
  const logoutDuring = racingLogouts(testApp.app);
  const seeded = await seedOrg(testApp.deps);
  const { app, clock } = testApp;
  const credentials = {
    org: seeded.org.slug,
    email: seeded.member.email,
    password: MEMBER_PASSWORD,
  };
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', seeded.org.id)
    .execute();
  const signedInAt = clock.now().toISOString();
  const enrolled = await enrollTotp(app, await signIn(app, credentials), clock);
  const totp = () => ({ method: 'totp', code: authenticatorCode(enrolled.secret, clock) });
  return { ...testApp, ...seeded, credentials, enrolled, totp, signedInAt, logoutDuring };
}

/**
 * Lets a test make the next request to a URL meet a logout of its own session, after the request's
 * session check and before its work. Installed before the app answers its first request.
 */
function racingLogouts(app: FastifyInstance) {
  let race: { url: string; token: string } | null = null;
  app.addHook('preHandler', async (request) => {
    if (!race || request.url !== race.url) return;
    const { token } = race;
    race = null;
    const logout = await post(app, token, '/auth/logout');
    assert.equal(logout.statusCode, 204);
  });
  return (url: string, token: string) => {
    race = { url, token };
  };
}

async function countSessions(userId: string): Promise<number> {
  const rows = await store.db
    .selectFrom('sessions')
    .select('token_hash')
    .where('user_id', '=', userId)
    .execute();
  return rows.length;
}

test('a password sign-in: auth_time is the sign-in, amr pwd, one factor', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  assert.deepEqual(await factsOf(app, token), {
    auth_time: clock.now().toISOString(),
    ...ONE_FACTOR,
  });
});

for (const [factor, codeOf] of [
  ['a TOTP code', (m: Awaited<ReturnType<typeof totpMember>>) => m.totp()],
  [
    'a recovery code',
    (m: Awaited<ReturnType<typeof totpMember>>) => ({
      method: 'recovery_code',
      code: m.enrolled.recoveryCodes[0] as string,
    }),
  ],
] as const) {
  test(`the second factor at sign-in (${factor}) adds otp and mfa at its own time`, async (t) => {
    const member = await totpMember();
    const { app, clock, credentials } = member;
    t.after(() => app.close());
    clock.advanceSeconds(600);
    const pending = await signIn(app, credentials);
    // Waiting for the second factor, the session already carries the password's facts.
    assert.deepEqual(await factsOf(app, pending), {
      auth_time: clock.now().toISOString(),
      ...ONE_FACTOR,
    });
    clock.advanceSeconds(40);
    const { method, code } = codeOf(member);
    const verified = await verify(app, pending, method, code);
    assert.equal(verified.statusCode, 200, verified.body);
    assert.deepEqual(await factsOf(app, sessionCookieOf(verified)), {
      auth_time: clock.now().toISOString(),
      ...TWO_FACTORS,
    });
  });
}

test('an emailed code that completes an enrollment required at sign-in is the second factor', async (t) => {
  const { app, deps, clock, mailer } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', org.id)
    .execute();
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const signedInAt = clock.now().toISOString();
  assert.deepEqual(await factsOf(app, token), { auth_time: signedInAt, ...ONE_FACTOR });
  clock.advanceSeconds(60);
  assert.equal((await post(app, token, '/me/mfa/email/setup')).statusCode, 202);
  const confirmed = await post(app, token, '/me/mfa/email/confirm', {
    code: mailer.codeFor(member.email),
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.deepEqual(await factsOf(app, sessionCookieOf(confirmed)), {
    auth_time: clock.now().toISOString(),
    ...TWO_FACTORS,
  });
});

test('a step-up with a fresh factor moves auth_time and adds its method, on the same session', async (t) => {
  const { app, clock, enrolled, totp, signedInAt } = await totpMember();
  t.after(() => app.close());
  // Signed in with the password alone: enrolling a factor in the session proved nothing more.
  const token = enrolled.token;
  assert.deepEqual(await factsOf(app, token), { auth_time: signedInAt, ...ONE_FACTOR });
  clock.advanceSeconds(600);
  const stepUp = await post(app, token, '/me/mfa/totp/setup', { verification: totp() });
  assert.equal(stepUp.statusCode, 200, stepUp.body);
  assert.deepEqual(await factsOf(app, token), {
    auth_time: clock.now().toISOString(),
    ...TWO_FACTORS,
  });
});

test('a rotation keeps the facts: after a password change the new token has the sign-in’s', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  const signedInAt = clock.now().toISOString();
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  clock.advanceSeconds(600);
  const changed = await post(app, token, '/me/password', {
    current_password: MEMBER_PASSWORD,
    new_password: 'a brand new passphrase',
  });
  assert.equal(changed.statusCode, 204, changed.body);
  assert.deepEqual(await factsOf(app, sessionCookieOf(changed)), {
    auth_time: signedInAt,
    ...ONE_FACTOR,
  });
});

test('an SSO sign-in: the provider’s auth_time, fed and its registered amr values', async (t) => {
  const { app, clock, addSsoUser, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const authTime = Math.floor(clock.now().getTime() / 1000) - 3600;
  const { browser } = await ssoSignIn({
    account: alice.account,
    authTime,
    acr: 'urn:test:loa:2',
    amr: ['pwd', 'otp', 'x-vendor'],
  });
  assert.deepEqual(await factsOf(app, browser.cookie('portcullis_session') as string), {
    auth_time: new Date(authTime * 1000).toISOString(),
    acr: 'urn:portcullis:acr:mfa',
    amr: ['fed', 'pwd', 'otp', 'mfa'],
  });

  // A provider that says nothing of its methods: federated, one factor.
  const bob = await addSsoUser('bob');
  const { browser: other } = await ssoSignIn({ account: bob.account, authTime });
  assert.deepEqual(await factsOf(app, other.cookie('portcullis_session') as string), {
    auth_time: new Date(authTime * 1000).toISOString(),
    acr: 'urn:portcullis:acr:1fa',
    amr: ['fed'],
  });
});

test('an SSO step-up at the provider moves auth_time and adds the provider’s methods', async (t) => {
  // The app's clock a few seconds behind the provider's: the provider's auth_time (now, by its
  // clock) is then later than the app's now, which is what the session records.
  const { app, clock, slug, addSsoUser, ssoSignIn } = await ssoOrg({
    clockStart: Date.now() - 5000,
  });
  t.after(() => app.close());
  const sam = await addSsoUser('sam');
  const authTime = Math.floor(clock.now().getTime() / 1000) - 3600;
  const { browser } = await ssoSignIn({ account: sam.account, authTime });
  const token = browser.cookie('portcullis_session') as string;
  assert.equal((await factsOf(app, token)).acr, 'urn:portcullis:acr:1fa');

  const journey = await browser.visit(`/api/v1/auth/sso/${slug}/start?purpose=step_up`, {
    user: { account: sam.account, amr: ['pwd', 'hwk'] },
  });
  assert.equal(journey.landed?.href, `${APP_URL}/?sso=verified`);
  assert.equal(sessionCookieSet(journey), false);
  assert.deepEqual(await factsOf(app, token), {
    auth_time: clock.now().toISOString(),
    acr: 'urn:portcullis:acr:mfa',
    amr: ['fed', 'pwd', 'hwk', 'mfa'],
  });
});

test('an SSO sign-in ends the session of the cookie it arrived with, as a password sign-in does', async (t) => {
  const { app, slug, member, addSsoUser, ssoSignIn } = await ssoOrg();
  t.after(() => app.close());
  const alice = await addSsoUser('alice');
  const earlier = await signIn(app, { org: slug, email: member.email, password: MEMBER_PASSWORD });
  const browser = new Browser(app, APP_URL);
  browser.setCookie('portcullis_session', earlier);
  await ssoSignIn({ account: alice.account }, browser);
  const current = browser.cookie('portcullis_session') as string;
  assert.notEqual(current, earlier);
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(current) });
  assert.equal(me.statusCode, 200);
  const old = await app.inject({ url: '/api/v1/me', headers: withSession(earlier) });
  assert.equal(old.statusCode, 401);
});

test('a logout that lands while the second factor is checked: 401, and the session stays ended', async (t) => {
  const { app, member, credentials, totp, logoutDuring } = await totpMember();
  t.after(() => app.close());
  const pending = await signIn(app, credentials);
  const sessionsBefore = await countSessions(member.id);
  logoutDuring('/api/v1/auth/mfa/verify', pending);
  const { code } = totp();
  const raced = await verify(app, pending, 'totp', code);
  assert.equal(raced.statusCode, 401, raced.body);
  assert.equal(raced.json().error, 'unauthenticated');
  assert.equal(
    raced.cookies.some((c) => c.name === 'portcullis_session' && c.value),
    false,
  );
  assert.equal(await countSessions(member.id), sessionsBefore - 1);
  // Nothing of the request happened: the code was not spent.
  const again = await verify(app, await signIn(app, credentials), 'totp', code);
  assert.equal(again.statusCode, 200, again.body);
});

test('a logout that lands during a password change: 401, and the password is unchanged', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const logoutDuring = racingLogouts(app);
  const { org, admin } = await seedOrg(deps);
  const credentials = { org: org.slug, email: admin.email, password: ADMIN_PASSWORD };
  const token = await signIn(app, credentials);
  logoutDuring('/api/v1/me/password', token);
  const raced = await post(app, token, '/me/password', {
    current_password: ADMIN_PASSWORD,
    new_password: 'a brand new passphrase',
  });
  assert.equal(raced.statusCode, 401, raced.body);
  assert.equal(await countSessions(admin.id), 0);
  // The old password still signs in (signIn throws otherwise).
  await signIn(app, credentials);
});

test('sessions alive at the upgrade get their facts; SSO ones keep what the provider said', async (t) => {
  const old = await openStore({ kind: 'pglite', dataDir: null });
  t.after(() => old.close());
  const migrated = await migrateBefore(old.db, '0009-session-facts');
  assert.equal(migrated.error, undefined);
  const at = (iso: string) => new Date(iso);
  await sql`insert into orgs (id, slug, name, created_at)
    values ('00000000-0000-4000-8000-000000000001', 'acme', 'Acme', now())`.execute(old.db);
  for (const [id, sso] of [
    ['1', false],
    ['2', true],
    ['3', true],
  ] as const) {
    await sql`insert into users (id, org_id, email, email_key, name, role, password_hash, sso,
        created_at)
      values (${`00000000-0000-4000-8000-00000000010${id}`}, '00000000-0000-4000-8000-000000000001',
        ${`u${id}@acme.test`}, ${`u${id}@acme.test`}, 'U', 'member', ${sso ? null : 'hash'},
        ${sso}, now())`.execute(old.db);
  }
  const session = (token: string, user: string, aal: number, createdAt: Date) =>
    sql`insert into sessions (token_hash, user_id, org_id, status, aal, org_epoch, user_epoch,
        created_at, last_seen_at)
      values (${token}, ${`00000000-0000-4000-8000-00000000010${user}`},
        '00000000-0000-4000-8000-000000000001', 'authenticated', ${aal}, 0, 0, ${createdAt},
        ${createdAt})`.execute(old.db);
  await session('password', '1', 1, at('2026-01-05T09:00:00Z'));
  await session('two-factors', '1', 2, at('2026-01-05T09:05:00Z'));
  await session('sso', '2', 1, at('2026-01-05T09:10:00Z'));
  await sql`update sessions set sso_auth_time = ${at('2026-01-05T08:00:00Z')},
      sso_acr = 'urn:idp:loa:2', sso_amr = '["pwd","otp","x-vendor"]'::jsonb
    where token_hash = 'sso'`.execute(old.db);
  await session('sso-silent', '3', 1, at('2026-01-05T09:15:00Z'));

  await old.migrate();
  const rows = await sql<{ token_hash: string; auth_time: Date; acr: string; amr: string[] }>`
    select token_hash, auth_time, acr, amr from sessions order by token_hash`.execute(old.db);
  assert.deepEqual(
    rows.rows.map((r) => ({ ...r, auth_time: r.auth_time.toISOString() })),
    [
      { token_hash: 'password', auth_time: '2026-01-05T09:00:00.000Z', ...ONE_FACTOR },
      {
        token_hash: 'sso',
        auth_time: '2026-01-05T08:00:00.000Z',
        acr: 'urn:portcullis:acr:mfa',
        amr: ['fed', 'pwd', 'otp', 'mfa'],
      },
      {
        token_hash: 'sso-silent',
        auth_time: '2026-01-05T09:15:00.000Z',
        acr: 'urn:portcullis:acr:1fa',
        amr: ['fed'],
      },
      { token_hash: 'two-factors', auth_time: '2026-01-05T09:05:00.000Z', ...TWO_FACTORS },
    ],
  );
  const columns = await sql<{ column_name: string }>`select column_name
    from information_schema.columns where table_name = 'sessions' and column_name like 'sso_%'`.execute(
    old.db,
  );
  assert.deepEqual(
    columns.rows.map((c) => c.column_name),
    ['sso_reauthenticated_at'],
  );
});
