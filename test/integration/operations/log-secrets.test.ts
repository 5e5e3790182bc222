import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { InsertQueryNode, Kysely, PostgresDialect, TableNode, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import { errorMessages } from '../../../src/core/errors.ts';
import { REQUEST_BODY_MAX_BYTES } from '../../../src/core/limits.ts';
import { issueSetupTokenIfEmpty } from '../../../src/services/org/setup.ts';
import type { Store } from '../../../src/store/db.ts';
import type { Database } from '../../../src/store/schema.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
  type SeededOrg,
  type TestApp,
} from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

type Secret = { name: string; value: string };

/** Where a secret shows up in the log: as is, JSON-escaped or URL-encoded. */
function leaksIn(logs: string[], secrets: Secret[]): string[] {
  const found: string[] = [];
  for (const { name, value } of secrets) {
    const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
    logs.forEach((line, index) => {
      if ([...forms].some((form) => line.includes(form))) {
        found.push(`${name} in log line ${index}: ${line.slice(0, 400)}`);
      }
    });
  }
  return found;
}

function assertNoSecretInLogs(logs: string[], secrets: Secret[]) {
  for (const secret of secrets) {
    assert.ok(secret.value.length >= 7, `${secret.name} is too short to search the log for`);
  }
  assert.deepEqual(leaksIn(logs, secrets), []);
  // Whatever the account: no argon2 PHC string, ever.
  assert.deepEqual(
    logs.filter((line) => /\$argon2(?:id|i|d)\$/.test(line)),
    [],
  );
}

type LogLine = { level: number; msg: string; err?: unknown };

function parsedLogs(logs: string[]): LogLine[] {
  return logs.map((line) => JSON.parse(line) as LogLine);
}

/** The test is only worth something if the requests were logged at all. */
function assertEveryRequestLogged(logs: string[], requests: number) {
  const completed = parsedLogs(logs).filter((line) => line.msg === 'request completed');
  assert.equal(completed.length, requests, 'not every request left a log line');
}

/** An app whose every answer is kept, so that every session token it hands out is known. */
type Recorded = TestApp & {
  responses: LightMyRequestResponse[];
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  tokens(): Secret[];
};

async function recordedApp(context: TestContext | null, target: Store): Promise<Recorded> {
  const testApp = await createTestApp(target);
  context?.after(() => testApp.close());
  const responses: LightMyRequestResponse[] = [];
  return {
    ...testApp,
    responses,
    async inject(options) {
      const response = await testApp.app.inject(options);
      responses.push(response);
      return response;
    },
    tokens: () =>
      responses
        .flatMap((response) => response.cookies)
        .filter((cookie) => cookie.name.endsWith('portcullis_session') && cookie.value !== '')
        .map((cookie, index) => ({ name: `session token #${index}`, value: cookie.value })),
  };
}

function tokenOf(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'portcullis_session' && c.value !== '');
  assert.ok(cookie, `no session cookie in ${response.statusCode} ${response.body}`);
  return cookie.value;
}

function expectAnswer(response: LightMyRequestResponse, status: number, error?: string) {
  assert.equal(response.statusCode, status, response.body);
  if (error !== undefined) assert.equal(response.json().error, error);
}

function uniquePassword(label: string): string {
  return `${label} ${randomBytes(6).toString('hex')}`;
}

const store = useTestStore();

async function passwordHashesOf(orgId: string): Promise<Secret[]> {
  const users = await store.db
    .selectFrom('users')
    .select(['email', 'password_hash'])
    .where('org_id', '=', orgId)
    .execute();
  const hashes = users.flatMap(({ email, password_hash }) =>
    password_hash === null
      ? []
      : [
          { name: `password hash of ${email}`, value: password_hash },
          { name: `hash digest of ${email}`, value: password_hash.split('$').at(-1) ?? '' },
        ],
  );
  assert.ok(hashes.length > 0, 'no password hash to look for');
  return hashes;
}

function adminOf(seeded: SeededOrg) {
  return { org: seeded.org.slug, email: seeded.admin.email, password: ADMIN_PASSWORD };
}

/** A store whose database is closed: every query fails, as when the database goes away. */
async function closedDatabase(): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ max: 1 }) }),
  });
  await db.destroy();
  return db;
}

/** Sends every insert into users to a table that does not exist: the database refuses the write. */
const refuseUserInserts: KyselyPlugin = {
  transformQuery: ({ node }) =>
    InsertQueryNode.is(node) && node.into?.table.identifier.name === 'users'
      ? { ...node, into: TableNode.create('users_refused_by_test') }
      : node,
  transformResult: async ({ result }) => result,
};

function assertBare500(response: LightMyRequestResponse) {
  assert.equal(response.statusCode, 500, response.body);
  assert.deepEqual(response.json(), {
    error: 'internal_error',
    message: errorMessages.internal_error,
  });
}

/** The failure was logged, in full, at error level: the log is where an operator looks. */
function assertFailureLogged(logs: string[]) {
  const failures = parsedLogs(logs).filter((line) => line.msg === 'request failed');
  assert.ok(failures.length > 0, 'the internal error was not logged');
  assert.ok(failures.every((line) => line.level === 50 && line.err !== undefined));
}

type FirstRun = { logs: string[]; secrets: Secret[]; statuses: number[]; requests: number };

/**
 * First-run setup needs a store where no org exists yet, and this file's tests share one store:
 * the setup runs once, before any test seeds an org, and its test only reads what it left.
 */
async function runFirstRunSetup(): Promise<FirstRun> {
  const recorded = await recordedApp(null, store);
  try {
    const setupToken = await issueSetupTokenIfEmpty(recorded.deps);
    assert.ok(setupToken, 'the store is not empty: first-run setup cannot run');
    const password = uniquePassword('first run admin');
    const weakPassword = 'Zq7!xW#';
    const slug = `first-${randomBytes(4).toString('hex')}`;
    const body = (adminPassword: string, token = setupToken) => ({
      token,
      org: { slug, name: 'First Org' },
      admin: { email: `root@${slug}.test`, name: 'Root', password: adminPassword },
    });
    const post = (payload: InjectOptions['payload'], headers: Record<string, string> = {}) =>
      recorded.inject({ method: 'POST', url: '/api/v1/setup', headers, payload });

    const statuses: number[] = [];
    statuses.push((await post(body(weakPassword))).statusCode);
    statuses.push((await post(body(password, randomBytes(32).toString('base64url')))).statusCode);
    statuses.push(
      (await post(JSON.stringify(body(password)), { 'content-type': 'text/plain' })).statusCode,
    );
    statuses.push((await post({ ...body(password), extra: true })).statusCode);
    const created = await post(body(password));
    statuses.push(created.statusCode);
    const token = tokenOf(created);
    const me = await recorded.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: withSession(token),
    });
    statuses.push(me.statusCode);
    statuses.push((await post(body(password))).statusCode);
    const logout = await recorded.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: withSession(token),
    });
    statuses.push(logout.statusCode);

    const org = await store.db
      .selectFrom('orgs')
      .select('id')
      .where('slug', '=', slug)
      .executeTakeFirstOrThrow();
    return {
      logs: recorded.logs,
      statuses,
      requests: recorded.responses.length,
      secrets: [
        { name: 'setup token', value: setupToken },
        { name: 'admin password', value: password },
        { name: 'refused weak password', value: weakPassword },
        ...(await passwordHashesOf(org.id)),
        ...recorded.tokens(),
      ],
    };
  } finally {
    await recorded.close();
  }
}

describe('No password, hash or token appears in logs', () => {
  let firstRun: FirstRun;
  before(async () => {
    firstRun = await runFirstRunSetup();
  });

  test('first-run setup, refused or not, logs neither the setup token, the password, its hash nor the session token', () => {
    // weak password, wrong token, text/plain, unknown field, created, /me, already set up, logout
    assert.deepEqual(firstRun.statuses, [400, 403, 415, 400, 201, 200, 409, 204]);
    assertEveryRequestLogged(firstRun.logs, firstRun.requests);
    assertNoSecretInLogs(firstRun.logs, firstRun.secrets);
  });

  test('signing in, failing to sign in, reading /me and signing out log no password, hash or token', async (t) => {
    const app = await recordedApp(t, store);
    const seeded = await seedOrg(app.deps);
    const wrongPassword = uniquePassword('wrong guess');
    const strangerPassword = uniquePassword('stranger');
    const forgedToken = randomBytes(32).toString('base64url');
    const login = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload });
    const me = (token: string) =>
      app.inject({ method: 'GET', url: '/api/v1/me', headers: withSession(token) });
    const logout = (token: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: withSession(token) });

    const admin = await login(adminOf(seeded));
    expectAnswer(admin, 200);
    const adminToken = tokenOf(admin);
    expectAnswer(
      await login({ ...adminOf(seeded), password: wrongPassword }),
      401,
      'invalid_credentials',
    );
    expectAnswer(
      await login({
        ...adminOf(seeded),
        email: `nobody@${seeded.org.slug}.test`,
        password: strangerPassword,
      }),
      401,
      'invalid_credentials',
    );
    expectAnswer(
      await login({ ...adminOf(seeded), org: 'no-such-org-anywhere' }),
      401,
      'invalid_credentials',
    );
    const memberCredentials = {
      org: seeded.org.slug,
      email: seeded.member.email,
      password: MEMBER_PASSWORD,
    };
    const member = await login(memberCredentials);
    expectAnswer(member, 200);
    // Signing in again over a live cookie rotates it: the old token is ended, a new one is set.
    const rotated = await login(memberCredentials, withSession(tokenOf(member)));
    expectAnswer(rotated, 200);

    expectAnswer(await me(adminToken), 200);
    expectAnswer(await me(tokenOf(rotated)), 200);
    expectAnswer(await me(tokenOf(member)), 401, 'unauthenticated');
    expectAnswer(await me(forgedToken), 401, 'unauthenticated');
    expectAnswer(await logout(adminToken), 204);
    expectAnswer(await me(adminToken), 401, 'unauthenticated');
    expectAnswer(await logout(adminToken), 401, 'unauthenticated');

    assertEveryRequestLogged(app.logs, app.responses.length);
    assertNoSecretInLogs(app.logs, [
      { name: 'admin password', value: ADMIN_PASSWORD },
      { name: 'member password', value: MEMBER_PASSWORD },
      { name: 'wrong password', value: wrongPassword },
      { name: 'unknown user password', value: strangerPassword },
      { name: 'forged token', value: forgedToken },
      ...(await passwordHashesOf(seeded.org.id)),
      ...app.tokens(),
    ]);
  });

  test('creating users, refused or not, logs no password or hash', async (t) => {
    const app = await recordedApp(t, store);
    const seeded = await seedOrg(app.deps);
    const adminToken = await signIn(app.app, adminOf(seeded));
    const memberToken = await signIn(app.app, {
      org: seeded.org.slug,
      email: seeded.member.email,
      password: MEMBER_PASSWORD,
    });
    const passwords = {
      created: uniquePassword('new user'),
      weak: 'Wk9!pQ#',
      tooLong: `${uniquePassword('far too long')}${'x'.repeat(300)}`,
      taken: uniquePassword('taken email'),
      byMember: uniquePassword('member tries'),
      withSso: uniquePassword('sso and password'),
      badName: uniquePassword('numeric name'),
    };
    const email = `new@${seeded.org.slug}.test`;
    const create = (payload: Record<string, unknown>, token = adminToken) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/org/users',
        headers: withSession(token),
        payload,
      });
    const user = (password: string, overrides: Record<string, unknown> = {}) => ({
      email,
      name: 'New Person',
      role: 'member',
      password,
      ...overrides,
    });

    expectAnswer(await create(user(passwords.created)), 201);
    expectAnswer(
      await create(user(passwords.weak, { email: `w@${seeded.org.slug}.test` })),
      400,
      'weak_password',
    );
    expectAnswer(
      await create(user(passwords.tooLong, { email: `l@${seeded.org.slug}.test` })),
      400,
      'password_too_long',
    );
    expectAnswer(await create(user(passwords.taken)), 409, 'email_taken');
    expectAnswer(
      await create(user(passwords.byMember, { email: `m@${seeded.org.slug}.test` }), memberToken),
      403,
      'forbidden',
    );
    expectAnswer(
      await create(user(passwords.withSso, { email: `s@${seeded.org.slug}.test`, sso: true })),
      400,
      'invalid_request',
    );
    expectAnswer(
      await create(user(passwords.badName, { email: `n@${seeded.org.slug}.test`, name: 42 })),
      400,
      'invalid_request',
    );
    const signedIn = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email, password: passwords.created },
    });
    expectAnswer(signedIn, 200);

    assertEveryRequestLogged(app.logs, app.responses.length + 2);
    assertNoSecretInLogs(app.logs, [
      ...Object.entries(passwords).map(([name, value]) => ({ name: `${name} password`, value })),
      { name: 'admin session', value: adminToken },
      { name: 'member session', value: memberToken },
      ...(await passwordHashesOf(seeded.org.id)),
      ...app.tokens(),
    ]);
  });

  test('requests refused before any handler log none of the secrets they carried', async (t) => {
    const app = await recordedApp(t, store);
    const seeded = await seedOrg(app.deps);
    const adminToken = await signIn(app.app, adminOf(seeded));
    const newPassword = uniquePassword('never created');
    const credentials = JSON.stringify(adminOf(seeded));
    const login = (payload: string | Buffer, headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload });
    const json = { 'content-type': 'application/json' };

    expectAnswer(await login(credentials.slice(0, -1), json), 400, 'invalid_json');
    expectAnswer(
      await login(credentials, { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    expectAnswer(
      await login(`password=${encodeURIComponent(ADMIN_PASSWORD)}`, {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'unsupported_media_type',
    );
    expectAnswer(
      await login(
        `${credentials.slice(0, -1)},"pad":"${'x'.repeat(REQUEST_BODY_MAX_BYTES)}"}`,
        json,
      ),
      413,
      'payload_too_large',
    );
    expectAnswer(
      await login(credentials, { ...json, origin: 'https://evil.example' }),
      403,
      'forbidden_origin',
    );
    expectAnswer(
      await login(`${credentials.slice(0, -1)},"__proto__":{"admin":true}}`, json),
      400,
      'invalid_json',
    );
    expectAnswer(
      await login(`${credentials.slice(0, -1)},"remember":true}`, json),
      400,
      'invalid_request',
    );
    const createUser = await app.inject({
      method: 'POST',
      url: '/api/v1/org/users',
      headers: { ...withSession(adminToken), ...json },
      payload: `{"email":"x@${seeded.org.slug}.test","name":"X","role":"member","password":"${newPassword}"`,
    });
    expectAnswer(createUser, 400, 'invalid_json');

    assertEveryRequestLogged(app.logs, app.responses.length + 1);
    assertNoSecretInLogs(app.logs, [
      { name: 'admin password', value: ADMIN_PASSWORD },
      { name: 'password of a refused new user', value: newPassword },
      { name: 'admin session', value: adminToken },
      ...(await passwordHashesOf(seeded.org.id)),
    ]);
  });

  test('with the database closed, routes answer a bare 500 internal_error and log no secret', async (t) => {
    const healthy = await recordedApp(t, store);
    const seeded = await seedOrg(healthy.deps);
    const adminToken = await signIn(healthy.app, adminOf(seeded));
    const newPassword = uniquePassword('created while down');

    const app = await recordedApp(t, { ...store, db: await closedDatabase() });
    assertBare500(
      await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: adminOf(seeded) }),
    );
    assertBare500(
      await app.inject({ method: 'GET', url: '/api/v1/me', headers: withSession(adminToken) }),
    );
    assertBare500(
      await app.inject({
        method: 'POST',
        url: '/api/v1/org/users',
        headers: withSession(adminToken),
        payload: {
          email: `down@${seeded.org.slug}.test`,
          name: 'Down',
          role: 'member',
          password: newPassword,
        },
      }),
    );
    assertBare500(
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: withSession(adminToken),
      }),
    );
    expectAnswer(await app.inject({ method: 'GET', url: '/healthz' }), 200);

    assertEveryRequestLogged(app.logs, app.responses.length);
    assertFailureLogged(app.logs);
    assertNoSecretInLogs(app.logs, [
      { name: 'admin password', value: ADMIN_PASSWORD },
      { name: 'password of a user created while down', value: newPassword },
      { name: 'admin session', value: adminToken },
      ...(await passwordHashesOf(seeded.org.id)),
    ]);
  });

  test('when the database refuses to store a new user, the logged error holds no password or hash', async (t) => {
    const healthy = await recordedApp(t, store);
    const seeded = await seedOrg(healthy.deps);
    const adminToken = await signIn(healthy.app, adminOf(seeded));
    const newPassword = uniquePassword('refused by the database');

    const app = await recordedApp(t, { ...store, db: store.db.withPlugin(refuseUserInserts) });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/org/users',
      headers: withSession(adminToken),
      payload: {
        email: `refused@${seeded.org.slug}.test`,
        name: 'Refused',
        role: 'member',
        password: newPassword,
      },
    });
    assertBare500(response);

    assertEveryRequestLogged(app.logs, app.responses.length);
    assertFailureLogged(app.logs);
    // The hash was made but never stored: the argon2 pattern check is what finds it.
    assertNoSecretInLogs(app.logs, [
      { name: 'new user password', value: newPassword },
      { name: 'admin session', value: adminToken },
      ...(await passwordHashesOf(seeded.org.id)),
    ]);
  });
});
