import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore, type Store } from '../../../src/store/db.ts';
import {
  binEntry,
  cliEntry,
  getWithSession,
  makeTempDir,
  postJson,
  removeDir,
  runCli,
  ServerProcess,
  type CliResult,
} from '../../helpers/process.ts';
import {
  ACME_ADMIN,
  ACME_MEMBER,
  CREATE_ACME,
  CREATE_ACME_MEMBER,
  assertRefused,
  assertSucceeded,
  meStatus,
  signIn,
} from '../../helpers/cli.ts';

/*
 * The `portcullis` command, run as an operator runs it: `node bin/portcullis.js ...` (and once
 * `node src/cli.ts ...`) with the test's Node 24, each test on a PGlite data dir of its own.
 * These tests stay on PGlite even when PORTCULLIS_TEST_DATABASE_URL is set: the CLI reads
 * DATABASE_URL, which the child environment never carries, and a temp data dir per test is the
 * isolation. Beside a running server the CLI runs each command inside it, which is fast; with no
 * server it opens the data dir itself (the migrate test, and test/integration/operations/embedded-owner.test.ts).
 * The store is opened here only once every process on the data dir has ended.
 */

const USAGE_HEAD = 'Usage: portcullis <command>';

const MEMBER = ACME_MEMBER;

/** A malformed command: exit 2, the reason, then the usage. */
function assertUsageError(result: CliResult, line: string) {
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.ok(
    result.stderr.startsWith(`portcullis: ${line}\n\n${USAGE_HEAD}\n`),
    `stderr was:\n${result.stderr}`,
  );
}

async function withStore<T>(dataDir: string, read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ kind: 'pglite', dataDir });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

async function usersOf(store: Store, orgSlug: string) {
  return store.db
    .selectFrom('users')
    .innerJoin('orgs', 'orgs.id', 'users.org_id')
    .select([
      'users.email',
      'users.name',
      'users.role',
      'users.sso',
      'users.password_hash',
      'users.session_epoch',
    ])
    .where('orgs.slug', '=', orgSlug)
    .orderBy('users.email')
    .execute();
}

async function createAcme(dataDir: string) {
  const org = await runCli(CREATE_ACME, { dataDir, stdin: `${ACME_ADMIN.password}\n` });
  assertSucceeded(org, `created org acme with admin ${ACME_ADMIN.email}`);
  const member = await runCli(CREATE_ACME_MEMBER, { dataDir, stdin: `${MEMBER.password}\n` });
  assertSucceeded(member, `created member ${MEMBER.email} in acme`);
}

async function stopCleanly(server: ServerProcess) {
  assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
}

test('migrate brings a fresh data dir to the latest schema, via node src/cli.ts as npm run portcullis does', async () => {
  const dataDir = await makeTempDir('portcullis-cli-migrate-');
  try {
    const result = await runCli(['migrate'], { dataDir, entry: cliEntry });
    assertSucceeded(result, 'schema is up to date');
    const applied = await withStore(dataDir, async (store) => {
      const names = () =>
        store.db
          .selectFrom('kysely_migration' as never)
          .select('name' as never)
          .orderBy('name' as never)
          .execute() as Promise<{ name: string }[]>;
      const afterCli = await names();
      // Migrating again finds nothing left to do: the CLI applied every migration the code ships.
      await store.migrate();
      return { afterCli, afterAgain: await names() };
    });
    assert.equal(applied.afterCli[0]?.name, '0001-foundation');
    assert.deepEqual(applied.afterAgain, applied.afterCli);
  } finally {
    await removeDir(dataDir);
  }
});

test('org create and user create make accounts with argon2id hashes that sign in; an SSO user gets no password', async () => {
  const dataDir = await makeTempDir('portcullis-cli-accounts-');
  const server = await ServerProcess.start({ dataDir });
  try {
    // Passwords from stdin (with the newline `echo` adds, which is not part of the password).
    await createAcme(dataDir);
    const admin2 = await runCli(
      [
        'user',
        'create',
        '--org',
        'acme',
        '--email',
        'b@acme.test',
        '--name',
        'Second Admin',
        '--role',
        'admin',
        '--password',
        'inline admin passphrase',
      ],
      { dataDir },
    );
    assertSucceeded(admin2, 'created admin b@acme.test in acme');
    const sso = await runCli(
      [
        'user',
        'create',
        '--org',
        'acme',
        '--email',
        's@acme.test',
        '--name',
        'Sam Sso',
        '--role',
        'member',
        '--sso',
      ],
      { dataDir },
    );
    assertSucceeded(sso, 'created member s@acme.test in acme');
    const beta = await runCli(
      [
        'org',
        'create',
        '--slug',
        'beta',
        '--name',
        'Beta',
        '--admin-email',
        'root@beta.test',
        '--admin-name',
        'Bea Root',
        '--admin-password',
        'beta admin passphrase',
      ],
      { dataDir, entry: cliEntry },
    );
    assertSucceeded(beta, 'created org beta with admin root@beta.test');

    const adminCookie = await signIn(server, 'acme', ACME_ADMIN.email, ACME_ADMIN.password);
    const memberCookie = await signIn(server, 'acme', MEMBER.email, MEMBER.password);
    await signIn(server, 'acme', 'b@acme.test', 'inline admin passphrase');
    await signIn(server, 'beta', 'root@beta.test', 'beta admin passphrase');

    const me = await getWithSession(`${server.baseUrl}/api/v1/me`, memberCookie);
    assert.equal(me.status, 200);
    const body = (await me.json()) as { user: { email: string; name: string; role: string } };
    assert.deepEqual(
      { email: body.user.email, name: body.user.name, role: body.user.role },
      { email: MEMBER.email, name: 'U', role: 'member' },
    );
    assert.equal(await meStatus(server, adminCookie), 200);

    // The newline that came with the password on stdin was not kept in it.
    const withNewline = await postJson(`${server.baseUrl}/api/v1/auth/login`, {
      org: 'acme',
      email: MEMBER.email,
      password: `${MEMBER.password}\n`,
    });
    assert.equal(withNewline.status, 401);

    const ssoLogin = await postJson(`${server.baseUrl}/api/v1/auth/login`, {
      org: 'acme',
      email: 's@acme.test',
      password: 'any password at all',
    });
    assert.equal(ssoLogin.status, 401);
    assert.equal(((await ssoLogin.json()) as { error: string }).error, 'invalid_credentials');

    await stopCleanly(server);

    const rows = await withStore(dataDir, async (store) => ({
      acme: await usersOf(store, 'acme'),
      beta: await usersOf(store, 'beta'),
    }));
    const shape = (users: typeof rows.acme) =>
      users.map((u) => ({
        email: u.email,
        name: u.name,
        role: u.role,
        sso: u.sso,
        argon2id: u.password_hash?.startsWith('$argon2id$') ?? null,
      }));
    assert.deepEqual(shape(rows.acme), [
      { email: 'a@acme.test', name: 'a', role: 'admin', sso: false, argon2id: true },
      { email: 'b@acme.test', name: 'Second Admin', role: 'admin', sso: false, argon2id: true },
      { email: 's@acme.test', name: 'Sam Sso', role: 'member', sso: true, argon2id: null },
      { email: 'u@acme.test', name: 'U', role: 'member', sso: false, argon2id: true },
    ]);
    assert.deepEqual(shape(rows.beta), [
      { email: 'root@beta.test', name: 'Bea Root', role: 'admin', sso: false, argon2id: true },
    ]);
  } finally {
    server.kill();
    await server.ended();
    await removeDir(dataDir);
  }
});

test('the CLI refuses bad input with a clear line and a non-zero exit, and changes nothing', async () => {
  const dataDir = await makeTempDir('portcullis-cli-refusals-');
  const server = await ServerProcess.start({ dataDir });
  try {
    await createAcme(dataDir);
    const orgArgs = (slug: string) => [
      'org',
      'create',
      '--slug',
      slug,
      '--name',
      'Other',
      '--admin-email',
      'x@other.test',
      '--admin-password',
      'a long enough passphrase',
    ];
    const userArgs = (org: string, email: string, password: string) => [
      'user',
      'create',
      '--org',
      org,
      '--email',
      email,
      '--name',
      'Someone',
      '--role',
      'member',
      '--password',
      password,
    ];

    assertRefused(
      await runCli(orgArgs('acme'), { dataDir }),
      'An organization with this slug already exists. (slug_taken)',
    );
    assertRefused(
      await runCli(orgArgs('Not A Slug!'), { dataDir }),
      'An organization slug is 2 to 40 lowercase letters, digits or hyphens, and does not start or end with a hyphen. (invalid_slug)',
    );
    assertRefused(
      await runCli(userArgs('acme', 'U@ACME.test', 'another passphrase'), { dataDir }),
      'A user with this email already exists in this organization. (email_taken)',
    );
    assertRefused(
      await runCli(userArgs('acme', 'weak@acme.test', '7chars!'), { dataDir }),
      'A password is at least 8 characters long. (weak_password)',
    );
    assertRefused(
      await runCli(userArgs('acme', 'victim<attacker@evil.test>', 'a long enough passphrase'), {
        dataDir,
      }),
      'The email address is not valid. (invalid_email)',
    );
    assertRefused(
      await runCli(userArgs('nowhere', 'v@nowhere.test', 'a long enough passphrase'), {
        dataDir,
      }),
      'No organization has this slug. (org_not_found)',
    );
    assertRefused(
      await runCli(['sessions', 'revoke', '--org', 'acme', '--email', 'nobody@acme.test'], {
        dataDir,
      }),
      'Not found. (not_found)',
    );

    // Usage errors are caught before the database is opened.
    assertUsageError(await runCli(['frobnicate'], { dataDir }), 'unknown command: frobnicate');
    assertUsageError(await runCli(['org', 'delete'], { dataDir }), 'unknown command: org delete');
    assertUsageError(
      await runCli(
        ['user', 'create', '--org', 'acme', '--name', 'N', '--role', 'member', '--sso'],
        { dataDir },
      ),
      '--email is required',
    );
    assertUsageError(
      await runCli(['org', 'create', '--slug', 'x1', '--name', 'X', '--admin-email', 'x@x.test'], {
        dataDir,
      }),
      '--admin-password or --admin-password-stdin is required',
    );
    assertUsageError(
      await runCli(
        [
          'user',
          'create',
          '--org',
          'acme',
          '--email',
          'r@acme.test',
          '--name',
          'R',
          '--role',
          'owner',
          '--sso',
        ],
        { dataDir },
      ),
      '--role is member or admin',
    );
    assertUsageError(
      await runCli(
        [
          'user',
          'create',
          '--org',
          'acme',
          '--email',
          'r@acme.test',
          '--name',
          'R',
          '--role',
          'member',
          '--sso',
          '--password',
          'a long enough passphrase',
        ],
        { dataDir },
      ),
      'an --sso user has no password',
    );
    const unknownFlag = await runCli(['sessions', 'revoke', '--org', 'acme', '--everyone'], {
      dataDir,
    });
    assert.equal(unknownFlag.code, 2);
    assert.match(unknownFlag.stderr, /^portcullis: Unknown option '--everyone'/);
    assert.ok(!unknownFlag.stderr.includes('a long enough passphrase'));

    await stopCleanly(server);
    const state = await withStore(dataDir, async (store) => ({
      orgs: await store.db.selectFrom('orgs').select('slug').orderBy('slug').execute(),
      users: (await usersOf(store, 'acme')).map((u) => u.email),
    }));
    assert.deepEqual(state, {
      orgs: [{ slug: 'acme' }],
      users: [ACME_ADMIN.email, MEMBER.email],
    });
  } finally {
    server.kill();
    await server.ended();
    await removeDir(dataDir);
  }
});

test('sessions revoke --email ends one user’s sessions; sessions revoke --org ends the whole org’s', async () => {
  const dataDir = await makeTempDir('portcullis-cli-revoke-');
  const server = await ServerProcess.start({ dataDir });
  try {
    await createAcme(dataDir);
    const adminCookie = await signIn(server, 'acme', ACME_ADMIN.email, ACME_ADMIN.password);
    const memberCookie = await signIn(server, 'acme', MEMBER.email, MEMBER.password);

    // The email is matched whatever its case, like every other lookup.
    const one = await runCli(['sessions', 'revoke', '--org', 'acme', '--email', 'U@Acme.Test'], {
      dataDir,
    });
    assertSucceeded(one, `ended every session of ${MEMBER.email}`);
    assert.equal(await meStatus(server, memberCookie), 401);
    assert.equal(await meStatus(server, adminCookie), 200);
    const memberAgain = await signIn(server, 'acme', MEMBER.email, MEMBER.password);

    const all = await runCli(['sessions', 'revoke', '--org', 'acme'], { dataDir });
    assertSucceeded(all, 'ended every session of acme');
    assert.equal(await meStatus(server, adminCookie), 401);
    assert.equal(await meStatus(server, memberAgain), 401);
    // Revocation ends sessions, not accounts: signing in again works.
    const fresh = await signIn(server, 'acme', ACME_ADMIN.email, ACME_ADMIN.password);
    assert.equal(await meStatus(server, fresh), 200);
    await stopCleanly(server);
  } finally {
    server.kill();
    await server.ended();
    await removeDir(dataDir);
  }
});

test('bin/portcullis.js prints the usage for --help and exits 0', async () => {
  const dataDir = await makeTempDir('portcullis-cli-help-');
  try {
    const result = await runCli(['--help'], { dataDir, entry: binEntry });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.ok(result.stdout.startsWith(`${USAGE_HEAD}\n`));
    assert.match(result.stdout, /sessions revoke --org S \[--email E\]/);
  } finally {
    await removeDir(dataDir);
  }
});
