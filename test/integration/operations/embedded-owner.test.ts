import assert from 'node:assert/strict';
import { existsSync, linkSync, renameSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigError } from '../../../src/config.ts';
import { controlSocketPath } from '../../../src/owner/control-socket.ts';
import { lockDataDir } from '../../../src/owner/data-dir-lock.ts';
import {
  cliEntry,
  freePort,
  makeTempDir,
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
 * One process owns an embedded data dir: a running server, or else the CLI while its command
 * runs. Real `portcullis` processes on a PGlite data dir each (these tests never use PostgreSQL:
 * the children get no DATABASE_URL). The CLI beside a server runs its command inside the server.
 */

const ADMIN = ACME_ADMIN;
const MEMBER = ACME_MEMBER;

/** Generous for a loaded machine: the point is that no command boots a database of its own. */
const THROUGH_SERVER_MS = 10_000;

const orgCreate = CREATE_ACME;
const memberCreate = CREATE_ACME_MEMBER;

/** Runs a CLI command and reports how long the whole process took, start to exit. */
async function timedCli(
  t: TestContext,
  args: string[],
  options: { dataDir: string; stdin?: string },
): Promise<CliResult> {
  const started = performance.now();
  const result = await runCli(args, options);
  const ms = Math.round(performance.now() - started);
  t.diagnostic(`${args.slice(0, 2).join(' ')}: ${ms} ms`);
  assert.ok(ms < THROUGH_SERVER_MS, `${args.join(' ')} took ${ms} ms`);
  return result;
}

function signInAcme(server: ServerProcess, email: string, password: string): Promise<string> {
  return signIn(server, 'acme', email, password);
}

/** `portcullis serve` run to its end: for a server that is expected to refuse to start. */
async function serveOnce(dataDir: string): Promise<CliResult> {
  return runCli(['serve'], { dataDir, entry: cliEntry, env: { PORT: String(await freePort()) } });
}

test('beside a running server, the CLI runs inside it (its accounts sign in, its revocations end sessions at once) and a second server refuses', async (t) => {
  const dataDir = await makeTempDir('portcullis-owner-cli-');
  const server = await ServerProcess.start({ dataDir });
  try {
    const socket = statSync(join(dataDir, 'portcullis.sock'));
    assert.equal(socket.mode & 0o777, 0o600);

    assertSucceeded(
      await timedCli(t, orgCreate, { dataDir, stdin: `${ADMIN.password}\n` }),
      `created org acme with admin ${ADMIN.email}`,
    );
    assertSucceeded(
      await timedCli(t, memberCreate, { dataDir, stdin: `${MEMBER.password}\n` }),
      `created member ${MEMBER.email} in acme`,
    );
    const adminCookie = await signInAcme(server, ADMIN.email, ADMIN.password);
    const memberCookie = await signInAcme(server, MEMBER.email, MEMBER.password);

    // A second server on the same data dir refuses with one line, and the first keeps serving.
    const second = await serveOnce(dataDir);
    assert.deepEqual(
      { code: second.code, stdout: second.stdout, stderr: second.stderr },
      {
        code: 1,
        stdout: '',
        stderr: `portcullis: the data dir ${dataDir} is in use by process ${server.pid} (portcullis serve)\n`,
      },
    );
    assert.equal(await meStatus(server, adminCookie), 200);
    await signInAcme(server, MEMBER.email, MEMBER.password);

    // Refusals keep their line and exit code through the server.
    assertRefused(
      await timedCli(t, orgCreate, { dataDir, stdin: 'another passphrase\n' }),
      'An organization with this slug already exists. (slug_taken)',
    );

    assertSucceeded(
      await timedCli(t, ['sessions', 'revoke', '--org', 'acme', '--email', MEMBER.email], {
        dataDir,
      }),
      `ended every session of ${MEMBER.email}`,
    );
    assert.equal(await meStatus(server, memberCookie), 401);
    assert.equal(await meStatus(server, adminCookie), 200);

    assertSucceeded(
      await timedCli(t, ['sessions', 'revoke', '--org', 'acme'], { dataDir }),
      'ended every session of acme',
    );
    assert.equal(await meStatus(server, adminCookie), 401);

    assertSucceeded(await timedCli(t, ['migrate'], { dataDir }), 'schema is up to date');

    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    // A clean stop leaves no socket behind.
    assert.equal(existsSync(join(dataDir, 'portcullis.sock')), false);
  } finally {
    server.kill();
    await server.ended();
    await removeDir(dataDir);
  }
});

test('with no server the CLI opens the store itself; after kill -9 a new server starts and has every acknowledged write', async () => {
  const dataDir = await makeTempDir('portcullis-owner-crash-');
  const servers: ServerProcess[] = [];
  try {
    assertSucceeded(
      await runCli(orgCreate, { dataDir, stdin: `${ADMIN.password}\n` }),
      `created org acme with admin ${ADMIN.email}`,
    );
    // The CLI freed the data dir when it was done.
    assert.equal(existsSync(join(dataDir, 'portcullis.sock')), false);

    const first = await ServerProcess.start({ dataDir });
    servers.push(first);
    assertSucceeded(
      await runCli(memberCreate, { dataDir, stdin: `${MEMBER.password}\n` }),
      `created member ${MEMBER.email} in acme`,
    );
    const cookie = await signInAcme(first, MEMBER.email, MEMBER.password);

    first.kill();
    assert.deepEqual(await first.ended(), { code: null, signal: 'SIGKILL' });
    // The socket file outlives its process; nobody listens on it any more.
    assert.equal(existsSync(join(dataDir, 'portcullis.sock')), true);

    const second = await ServerProcess.start({ dataDir });
    servers.push(second);
    assert.equal(await meStatus(second, cookie), 200);
    await signInAcme(second, ADMIN.email, ADMIN.password);
    await signInAcme(second, MEMBER.email, MEMBER.password);
    assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
  } finally {
    for (const server of servers) server.kill();
    await Promise.all(servers.map((server) => server.ended()));
    await removeDir(dataDir);
  }
});

test('while a command holds the data dir, a server refuses to start and another command is told to wait', async () => {
  const dataDir = join(await makeTempDir('portcullis-owner-held-'), 'data');
  const locked = await lockDataDir(dataDir, 'command');
  assert.ok(locked.ok);
  try {
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const held = `the data dir ${dataDir} is in use by process ${process.pid} (a portcullis command)`;
    assertRefused(await serveOnce(dataDir), held);
    assertRefused(
      await runCli(['sessions', 'revoke', '--org', 'acme'], { dataDir }),
      `${held}; try again when it ends`,
    );
    // Neither touched the data dir: no key was generated, no database created.
    assert.equal(existsSync(join(dataDir, 'encryption.key')), false);
    assert.equal(existsSync(join(dataDir, 'PG_VERSION')), false);
  } finally {
    await locked.lock.release();
    await removeDir(join(dataDir, '..'));
  }
});

test('of two processes that find the same stale socket, exactly one takes the data dir', async () => {
  const dataDir = await makeTempDir('portcullis-owner-race-');
  try {
    // A socket file nobody listens on, as a process killed with SIGKILL leaves it.
    const socketPath = join(dataDir, 'portcullis.sock');
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(socketPath, resolve));
    linkSync(socketPath, `${socketPath}.kept`);
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    renameSync(`${socketPath}.kept`, socketPath);

    const results = await Promise.all([
      lockDataDir(dataDir, 'command'),
      lockDataDir(dataDir, 'command'),
    ]);
    const locks = results.flatMap((result) => (result.ok ? [result.lock] : []));
    const holders = results.flatMap((result) => (result.ok ? [] : [result.holder]));
    assert.equal(locks.length, 1);
    assert.deepEqual(holders, [{ pid: process.pid, role: 'command' }]);
    for (const lock of locks) await lock.release();
  } finally {
    await removeDir(dataDir);
  }
});

test('a data dir whose socket path is too long for a Unix socket is refused by name', () => {
  const deep = `/${'d'.repeat(120)}`;
  assert.throws(
    () => controlSocketPath(deep, '/'),
    (error: unknown) =>
      error instanceof ConfigError && error.message.startsWith('PORTCULLIS_DATA_DIR is too long'),
  );
  // Spelled from the working directory, the default ./data is short wherever the server runs.
  assert.equal(controlSocketPath(`${deep}/data`, deep), 'data/portcullis.sock');
});
