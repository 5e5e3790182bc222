import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tar from 'tar';
import {
  cliEntry,
  freePort,
  makeTempDir,
  postJson,
  removeDir,
  runCli,
  ServerProcess,
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
 * `portcullis backup` while the embedded server serves, and `portcullis restore` into an empty
 * data dir: real processes on PGlite data dirs (never PostgreSQL, whatever the environment says).
 */

/** Each test boots the embedded database three or four times, in real processes. */
const PROCESSES_TIMEOUT_MS = 300_000;

const LATE_MEMBER = { email: 'late@acme.test', password: 'late member passphrase' };
const CREATE_LATE_MEMBER = [
  'user',
  'create',
  '--org',
  'acme',
  '--email',
  LATE_MEMBER.email,
  '--name',
  'Late',
  '--role',
  'member',
  '--password-stdin',
];

async function entriesOf(file: string): Promise<string[]> {
  const entries: string[] = [];
  await tar.t({ file, onReadEntry: (entry) => entries.push(entry.path.replace(/^\.\//, '')) });
  return entries;
}

async function loginStatus(server: ServerProcess, email: string, password: string) {
  const response = await postJson(`${server.baseUrl}/api/v1/auth/login`, {
    org: 'acme',
    email,
    password,
  });
  await response.arrayBuffer();
  return response.status;
}

test(
  'a backup taken while the server serves and writes, restored into a fresh data dir, holds exactly what was there at backup time',
  { timeout: PROCESSES_TIMEOUT_MS },
  async (t) => {
    const source = await makeTempDir('portcullis-backup-source-');
    const target = await makeTempDir('portcullis-backup-target-');
    const folder = await makeTempDir('portcullis-backups-');
    const file = join(folder, 'acme.tar.gz');
    t.after(() => Promise.all([source, target, folder].map(removeDir)));
    const servers: ServerProcess[] = [];
    t.after(() => servers.forEach((server) => server.kill()));

    const server = await ServerProcess.start({ dataDir: source });
    servers.push(server);
    assertSucceeded(
      await runCli(CREATE_ACME, { dataDir: source, stdin: ACME_ADMIN.password }),
      `created org acme with admin ${ACME_ADMIN.email}`,
    );
    assertSucceeded(
      await runCli(CREATE_ACME_MEMBER, { dataDir: source, stdin: ACME_MEMBER.password }),
      `created member ${ACME_MEMBER.email} in acme`,
    );
    const memberSession = await signIn(server, 'acme', ACME_MEMBER.email, ACME_MEMBER.password);

    // Sign-ins write sessions and audit rows all through the backup.
    let writing = true;
    const writer = (async () => {
      let signIns = 0;
      while (writing) {
        await signIn(server, 'acme', ACME_ADMIN.email, ACME_ADMIN.password);
        signIns += 1;
      }
      return signIns;
    })();
    const backup = await runCli(['backup', file], { dataDir: source });
    writing = false;
    t.diagnostic(`sign-ins during the backup: ${await writer}`);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /^wrote .*acme\.tar\.gz; it does not hold the encryption key/);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    // After the backup: a new member, and the member's session ended.
    assertSucceeded(
      await runCli(CREATE_LATE_MEMBER, { dataDir: source, stdin: LATE_MEMBER.password }),
      `created member ${LATE_MEMBER.email} in acme`,
    );
    assertSucceeded(
      await runCli(['sessions', 'revoke', '--org', 'acme', '--email', ACME_MEMBER.email], {
        dataDir: source,
      }),
      `ended every session of ${ACME_MEMBER.email}`,
    );
    assert.equal(await meStatus(server, memberSession), 401);
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });

    const restored = await runCli(['restore', file], { dataDir: target });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /the backup holds no encryption key: before starting the server/);
    // Restored without its key, the data dir refuses to start rather than make a new key.
    const refused = await runCli(['serve'], {
      dataDir: target,
      entry: cliEntry,
      env: { PORT: String(await freePort()) },
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /holds a database but no encryption\.key/);
    assert.equal(readdirSync(target).includes('encryption.key'), false);
    copyFileSync(join(source, 'encryption.key'), join(target, 'encryption.key'));

    const restoredServer = await ServerProcess.start({ dataDir: target });
    servers.push(restoredServer);
    assert.equal(await loginStatus(restoredServer, ACME_ADMIN.email, ACME_ADMIN.password), 200);
    assert.equal(await loginStatus(restoredServer, ACME_MEMBER.email, ACME_MEMBER.password), 200);
    // Written after the backup: not in it.
    assert.equal(await loginStatus(restoredServer, LATE_MEMBER.email, LATE_MEMBER.password), 401);
    // Ended after the backup: alive in it, as it was then.
    assert.equal(await meStatus(restoredServer, memberSession), 200);
  },
);

test(
  'the encryption key is in a backup only with --include-key; the socket and the dev outbox never are',
  { timeout: PROCESSES_TIMEOUT_MS },
  async (t) => {
    const source = await makeTempDir('portcullis-backup-key-');
    const folder = await makeTempDir('portcullis-backups-');
    const keyed = await makeTempDir('portcullis-restore-keyed-');
    t.after(() => Promise.all([source, folder, keyed].map(removeDir)));
    const server = await ServerProcess.start({ dataDir: source });
    t.after(() => server.kill());
    assertSucceeded(
      await runCli(CREATE_ACME, { dataDir: source, stdin: ACME_ADMIN.password }),
      `created org acme with admin ${ACME_ADMIN.email}`,
    );
    mkdirSync(join(source, 'outbox'), { recursive: true });
    writeFileSync(join(source, 'outbox', 'a-mail.eml'), 'Your code is 123456', { flag: 'wx' });

    const without = join(folder, 'without-key.tar.gz');
    const withKey = join(folder, 'with-key.tar.gz');
    assert.equal((await runCli(['backup', without], { dataDir: source })).code, 0);
    const included = await runCli(['backup', withKey, '--include-key'], { dataDir: source });
    assert.match(included.stdout, /it holds the encryption key: keep it as safe as the key itself/);
    await server.stop('SIGTERM');
    // No server runs: the CLI owns the data dir and takes the backup itself.
    const byCli = join(folder, 'by-cli.tar.gz');
    assert.equal((await runCli(['backup', byCli], { dataDir: source })).code, 0);

    for (const file of [without, byCli]) {
      const entries = await entriesOf(file);
      assert.ok(entries.includes('PG_VERSION'), 'the database is in the backup');
      for (const own of ['encryption.key', 'portcullis.sock', 'outbox']) {
        assert.ok(!entries.some((entry) => entry.split('/')[0] === own), `${own} is left out`);
      }
    }
    const withEntries = await entriesOf(withKey);
    assert.ok(withEntries.includes('encryption.key'));
    assert.ok(!withEntries.some((entry) => entry.startsWith('outbox')));

    const restored = await runCli(['restore', withKey], { dataDir: keyed });
    assert.match(restored.stdout, /the backup held its encryption key/);
    assert.equal(
      readFileSync(join(keyed, 'encryption.key'), 'utf8'),
      readFileSync(join(source, 'encryption.key'), 'utf8'),
    );
    assert.equal(statSync(join(keyed, 'encryption.key')).mode & 0o777, 0o600);
  },
);

test(
  'restore fills an empty data dir only; backup never replaces a file; on PostgreSQL both point to pg_dump and pg_restore',
  { timeout: PROCESSES_TIMEOUT_MS },
  async (t) => {
    const source = await makeTempDir('portcullis-backup-refusals-');
    const folder = await makeTempDir('portcullis-backups-');
    t.after(() => Promise.all([source, folder].map(removeDir)));
    const server = await ServerProcess.start({ dataDir: source });
    t.after(() => server.kill());
    assertSucceeded(
      await runCli(CREATE_ACME, { dataDir: source, stdin: ACME_ADMIN.password }),
      `created org acme with admin ${ACME_ADMIN.email}`,
    );
    const file = join(folder, 'acme.tar.gz');
    assert.equal((await runCli(['backup', file], { dataDir: source })).code, 0);

    const before = statSync(file).mtimeMs;
    assertRefused(
      await runCli(['backup', file], { dataDir: source }),
      `${file} exists; a backup never replaces a file`,
    );
    assert.equal(statSync(file).mtimeMs, before);

    // Into the data dir that is in use (and not empty): refused, nothing touched.
    const busy = await runCli(['restore', file], { dataDir: source });
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      /is in use by process \d+ \(portcullis serve\); restore fills an empty/,
    );
    assert.equal(await loginStatus(server, ACME_ADMIN.email, ACME_ADMIN.password), 200);
    await server.stop('SIGTERM');
    assertRefused(
      await runCli(['restore', file], { dataDir: source }),
      `the data dir ${source} is not empty; restore fills an empty data dir only`,
    );

    // A tampered backup cannot plant a setuid file, or open the database to others.
    const unpacked = await makeTempDir('portcullis-backup-unpacked-');
    const tampered = join(folder, 'tampered.tar.gz');
    const setuidTarget = await makeTempDir('portcullis-restore-setuid-');
    t.after(() => Promise.all([unpacked, setuidTarget].map(removeDir)));
    await tar.x({ file, cwd: unpacked });
    writeFileSync(join(unpacked, 'planted'), '#!/bin/sh\n');
    chmodSync(join(unpacked, 'planted'), 0o4777);
    chmodSync(join(unpacked, 'base'), 0o777);
    await tar.c({ gzip: true, file: tampered, cwd: unpacked }, readdirSync(unpacked));
    chmodSync(setuidTarget, 0o755);
    assert.equal((await runCli(['restore', tampered], { dataDir: setuidTarget })).code, 0);
    assert.equal(statSync(join(setuidTarget, 'planted')).mode & 0o7777, 0o600);
    assert.equal(statSync(join(setuidTarget, 'base')).mode & 0o7777, 0o700);
    assert.equal(statSync(setuidTarget).mode & 0o7777, 0o700);

    // A file that is not a backup leaves the data dir as empty as it was.
    const empty = await makeTempDir('portcullis-restore-empty-');
    t.after(() => removeDir(empty));
    const bogus = join(folder, 'bogus.tar.gz');
    writeFileSync(bogus, 'not a tar at all');
    assertRefused(
      await runCli(['restore', bogus], { dataDir: empty }),
      `${bogus} is not a Portcullis backup`,
    );
    assert.deepEqual(readdirSync(empty), []);

    const onPostgres = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    for (const args of [
      ['backup', join(folder, 'pg.tar.gz')],
      ['restore', file],
    ]) {
      assertRefused(
        await runCli(args, { dataDir: empty, env: onPostgres }),
        'on PostgreSQL, back up with pg_dump and restore with pg_restore (see README.md, "Backup and restore")',
      );
    }

    const usage = await runCli(['backup'], { dataDir: source });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give one FILE/);
  },
);
