import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { generateTotp, totpStepAt } from '../src/core/totp.ts';
import { startFlags } from './lib/server.ts';

/*
 * Soak: two instances on one PostgreSQL under a mixed load (sign-in with TOTP, emailed codes or
 * recovery codes, GET /me, step-up, logout, the admin's users list) for SOAK_MINUTES (10 by
 * default). Every 30 s it prints requests, errors and each server's resident memory; at the end,
 * the totals and the memory growth. Any unexpected status or network error is an error, and the
 * script exits with 1 if there was one. Not part of CI:
 *
 *   SOAK_MINUTES=10 node bench/soak.ts
 *
 * SOAK_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres) names the server; the script
 * works in a database of its own, portcullis_soak, made afresh and dropped at the end.
 */

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const SERVER_URL = process.env.SOAK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'portcullis_soak';
const REPORT_EVERY_MS = 30_000;
const TOTP_USERS = 16;
const EMAIL_USERS = 4;
/** Each TOTP user belongs to one virtual user, two per virtual user: codes never collide. */
const TOTP_USERS_PER_LANE = 2;
/** Between two requests of one virtual user: a load that lasts, not a stress test. */
const THINK_MS = 20;
/** Sessions a user keeps open at most; the oldest is logged out to make room. */
const SESSIONS_PER_USER = 3;
/** Emailed codes: at most one send per 30 s per purpose and 10 an hour per user. */
const EMAIL_SPACING_MS = Math.max(32_000, (MINUTES * 60_000) / 8);
/** Recovery codes a user keeps back for sign-ins; below it, a step-up regenerates the set. */
const RECOVERY_RESERVE = 3;
const PASSWORD = 'soak password 1';
const ORG = 'soak';
const repoRoot = fileURLToPath(new URL('../', import.meta.url));

type Instance = { baseUrl: string; pid: number; child: ChildProcess; output: () => string };
type Answer = { status: number; body: Record<string, unknown> };
type User = {
  email: string;
  totp?: Uint8Array;
  lastStep: bigint;
  recoveryCodes: string[];
  sessions: string[];
  lastEmailAt: number;
};

const stats = {
  requests: 0,
  errors: 0,
  samples: [] as string[],
  byOperation: new Map<string, number>(),
};
const latestCode = new Map<string, { code: string; count: number }>();
let instances: Instance[] = [];

// --- processes, database, mail ------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-soak-'));
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(PORTCULLIS_|PORT$|HOST$|DATABASE_|SMTP_URL$|REDIS_URL$|LOG_LEVEL$)/.test(name)) {
      clean[name] = value;
    }
  }
  const flags = await startFlags();
  const child = spawn(process.execPath, [...flags, join(repoRoot, 'src', 'cli.ts'), 'serve'], {
    cwd: repoRoot,
    env: { ...clean, ...env, PORT: String(port), PORTCULLIS_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: string) => (output = (output + chunk).slice(-20_000));
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  child.once('exit', () => void rm(dataDir, { recursive: true, force: true }));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a server exited at start:\n${output}`);
    const up = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`a server did not start in 60 s:\n${output}`);
    await sleep(100);
  }
  return { baseUrl, pid: child.pid!, child, output: () => output };
}

async function stopInstance(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null || instance.child.signalCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
}

async function onServer(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** Keeps only the newest code each address received, and how many codes it has received. */
async function startMailbox(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const text = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/=\r?\n/g, '');
        const code = /verification code is (\d{6})\b/.exec(text)?.[1];
        for (const { address } of session.envelope.rcptTo) {
          if (!code) continue;
          latestCode.set(address, { code, count: (latestCode.get(address)?.count ?? 0) + 1 });
        }
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function codeMailedTo(address: string, seen: number): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const latest = latestCode.get(address);
    if (latest && latest.count > seen) return latest.code;
    if (Date.now() > deadline) throw failure(`no code mail to ${address} in 15 s`);
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- requests -----------------------------------------------------------------------------

/**
 * One request to a random instance (or instance `i`). Any status but the expected one, or no
 * answer at all, counts as an error and throws, ending that virtual user's current cycle.
 */
async function request(
  operation: string,
  expected: number,
  method: string,
  path: string,
  options: { body?: unknown; session?: string; i?: number } = {},
): Promise<Answer & { session?: string }> {
  const instance = instances[options.i ?? randomInt(instances.length)]!;
  stats.requests += 1;
  stats.byOperation.set(operation, (stats.byOperation.get(operation) ?? 0) + 1);
  let answer: Answer & { session?: string };
  try {
    const response = await fetch(`${instance.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(options.session ? { cookie: `portcullis_session=${options.session}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const cookie = response.headers
      .getSetCookie()
      .map((c) => /^portcullis_session=([^;]+)/.exec(c)?.[1])
      .find(Boolean);
    answer = {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      ...(cookie ? { session: cookie } : {}),
    };
  } catch (error) {
    throw failure(`${operation}: no answer (${(error as Error).message})`);
  }
  if (answer.status !== expected) {
    throw failure(`${operation}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
  return answer;
}

/** An error already counted in the stats. */
class Counted extends Error {}

function failure(message: string): Counted {
  stats.errors += 1;
  if (stats.samples.length < 20) stats.samples.push(message);
  return new Counted(message);
}

/** Anything a cycle throws is an error: counted once, whatever threw it. */
function count(error: unknown): void {
  if (!(error instanceof Counted))
    failure(`unexpected: ${(error as Error).stack ?? String(error)}`);
}

/** The code of the next step not used yet, if the authenticator has one now (current or next). */
function totpCode(user: User): string | null {
  if (!user.totp) return null;
  const current = totpStepAt(new Date());
  const step = user.lastStep + 1n > current ? user.lastStep + 1n : current;
  if (step > current + 1n) return null;
  user.lastStep = step;
  return generateTotp(user.totp, step);
}

async function signIn(email: string): Promise<Answer & { session: string }> {
  const answer = await request('sign-in', 200, 'POST', '/auth/login', {
    body: { org: ORG, email, password: PASSWORD },
  });
  return { ...answer, session: answer.session! };
}

function keepSession(user: User, session: string): Promise<unknown> | undefined {
  user.sessions.push(session);
  if (user.sessions.length <= SESSIONS_PER_USER) return undefined;
  return request('logout', 204, 'POST', '/auth/logout', {
    body: {},
    session: user.sessions.shift(),
  });
}

// --- seeding ------------------------------------------------------------------------------

async function seed(setupToken: string): Promise<{ admin: string; users: User[] }> {
  await request('setup', 201, 'POST', '/setup', {
    i: 0,
    body: {
      token: setupToken,
      org: { slug: ORG, name: 'Soak' },
      admin: { email: 'admin@soak.test', name: 'Admin', password: PASSWORD },
    },
  });
  let admin = (await signIn('admin@soak.test')).session;
  const users: User[] = [];
  for (let n = 0; n < TOTP_USERS + EMAIL_USERS; n += 1) {
    const email = `${n < TOTP_USERS ? 'totp' : 'email'}${n}@soak.test`;
    const body = { email, name: `User ${n}`, role: 'member', password: PASSWORD };
    await request('create user', 201, 'POST', '/org/users', { body, session: admin });
    users.push({ email, lastStep: -1n, recoveryCodes: [], sessions: [], lastEmailAt: 0 });
  }
  await request('policy', 200, 'PUT', '/org/mfa/policy', {
    body: { policy: 'enabled', sessions: 'keep' },
    session: admin,
  });
  admin = (await signIn('admin@soak.test')).session;
  for (const user of users) {
    const { session } = await signIn(user.email);
    if (user.email.startsWith('totp')) {
      const setup = await request('totp setup', 200, 'POST', '/me/mfa/totp/setup', {
        body: {},
        session,
      });
      user.totp = decodeBase32IgnorePadding(setup.body.secret as string);
      const code = totpCode(user)!;
      const confirm = await request('totp confirm', 200, 'POST', '/me/mfa/totp/confirm', {
        body: { code },
        session,
      });
      user.recoveryCodes = confirm.body.recovery_codes as string[];
    } else {
      const seen = latestCode.get(user.email)?.count ?? 0;
      await request('email setup', 202, 'POST', '/me/mfa/email/setup', { body: {}, session });
      const code = await codeMailedTo(user.email, seen);
      const confirm = await request('email confirm', 200, 'POST', '/me/mfa/email/confirm', {
        body: { code },
        session,
      });
      user.recoveryCodes = confirm.body.recovery_codes as string[];
    }
  }
  return { admin, users };
}

/** The first start prints a one-time setup link once it listens. */
async function setupToken(instance: Instance): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const token = /\/setup#token=([A-Za-z0-9_-]+)/.exec(instance.output())?.[1];
    if (token) return token;
    if (Date.now() > deadline) throw new Error(`no setup link:\n${instance.output()}`);
    await sleep(50);
  }
}

// --- the load -----------------------------------------------------------------------------

/** Sign-in with the second step on the other instance, then GET /me; the session is kept. */
async function signInWithTotp(user: User): Promise<void> {
  const code = totpCode(user);
  // A few recovery codes stay for when the authenticator has no fresh code; a step-up refills.
  const recovery =
    code || user.recoveryCodes.length <= RECOVERY_RESERVE ? undefined : user.recoveryCodes.pop();
  if (!code && !recovery) return;
  const first = randomInt(instances.length);
  const started = await request('sign-in', 200, 'POST', '/auth/login', {
    i: first,
    body: { org: ORG, email: user.email, password: PASSWORD },
  });
  const verification = code
    ? { method: 'totp', code }
    : { method: 'recovery_code', code: recovery };
  const verified = await request(`verify ${verification.method}`, 200, 'POST', '/auth/mfa/verify', {
    i: (first + 1) % instances.length,
    body: verification,
    session: started.session,
  });
  await request('me', 200, 'GET', '/me', { session: verified.session });
  await keepSession(user, verified.session!);
}

/** Regenerating recovery codes, a sensitive action: step-up with a TOTP code in the request. */
async function stepUp(user: User): Promise<void> {
  const session = user.sessions.at(-1);
  const code = totpCode(user);
  if (!session || !code) return;
  const answer = await request('step-up', 200, 'POST', '/me/recovery-codes', {
    body: { verification: { method: 'totp', code } },
    session,
  });
  user.recoveryCodes = answer.body.recovery_codes as string[];
}

async function totpLane(users: User[], until: number): Promise<void> {
  while (Date.now() < until) {
    const user = users[randomInt(users.length)]!;
    const dice = randomInt(100);
    try {
      const refill = user.recoveryCodes.length <= RECOVERY_RESERVE && user.sessions.length > 0;
      if (refill) await stepUp(user);
      else if (user.sessions.length === 0 || dice < 30) await signInWithTotp(user);
      else if (dice < 70) await request('me', 200, 'GET', '/me', { session: user.sessions[0] });
      else if (dice < 85) await stepUp(user);
      else {
        const session = user.sessions.splice(randomInt(user.sessions.length), 1)[0];
        await request('logout', 204, 'POST', '/auth/logout', { body: {}, session });
      }
    } catch (error) {
      count(error);
      user.sessions = []; // start this user afresh
    }
    await sleep(THINK_MS);
  }
}

/** Sign-in with an emailed code, spaced to stay within the send limits, then GET /me. */
async function emailLane(users: User[], until: number): Promise<void> {
  while (Date.now() < until) {
    const user = users.find((u) => Date.now() - u.lastEmailAt > EMAIL_SPACING_MS);
    try {
      if (user) {
        const { session } = await signIn(user.email);
        const seen = latestCode.get(user.email)?.count ?? 0;
        // Counted from the answer: the server dates the send at least as early as that.
        user.lastEmailAt = Date.now();
        await request('send email code', 202, 'POST', '/auth/verification/email', {
          body: {},
          session,
        });
        user.lastEmailAt = Date.now();
        const code = await codeMailedTo(user.email, seen);
        const verified = await request('verify email', 200, 'POST', '/auth/mfa/verify', {
          body: { method: 'email', code },
          session,
        });
        await keepSession(user, verified.session!);
      } else {
        const some = users.find((u) => u.sessions.length > 0);
        if (some) await request('me', 200, 'GET', '/me', { session: some.sessions[0] });
      }
    } catch (error) {
      count(error);
      if (user) user.sessions = [];
    }
    await sleep(THINK_MS * 5);
  }
}

async function adminLane(admin: string, until: number): Promise<void> {
  while (Date.now() < until) {
    try {
      await request('list users', 200, 'GET', '/org/users?limit=50', { session: admin });
      await request('org mfa', 200, 'GET', '/org/mfa', { session: admin });
    } catch (error) {
      count(error);
    }
    await sleep(THINK_MS * 10);
  }
}

// --- the run ------------------------------------------------------------------------------

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function rssLine(): Promise<{ text: string; values: number[] }> {
  const values = await Promise.all(instances.map((i) => residentBytes(i.pid)));
  return { values, text: values.map((v, i) => `${'AB'[i]} ${mb(v)}`).join(', ') };
}

async function main(): Promise<number> {
  console.log(`soak: ${MINUTES} min, two instances on ${DATABASE}`);
  await onServer(`drop database if exists ${DATABASE} with (force)`);
  await onServer(`create database ${DATABASE}`);
  const mailbox = await startMailbox();
  const databaseUrl = new URL(SERVER_URL);
  databaseUrl.pathname = `/${DATABASE}`;
  const env = {
    DATABASE_URL: databaseUrl.toString(),
    PORTCULLIS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PORTCULLIS_AUTH_RATE_LIMIT: '1000000',
    SMTP_URL: mailbox.url,
  };
  try {
    instances = [await startInstance(env)];
    const token = await setupToken(instances[0]!);
    instances.push(await startInstance(env));
    const { admin, users } = await seed(token);
    stats.requests = 0;
    stats.byOperation.clear();

    const start = await rssLine();
    const began = Date.now();
    const until = began + MINUTES * 60_000;
    console.log(`seeded ${users.length} users; pids ${instances.map((i) => i.pid).join(', ')}`);
    console.log(`   0s  rss ${start.text}`);
    // The first 30 s fill the JIT caches, connection pools and heaps: growth after that is the
    // figure that would show a leak.
    let warm: number[] | undefined;
    const reporter = setInterval(async () => {
      const seconds = Math.round((Date.now() - began) / 1000);
      const rss = await rssLine();
      warm ??= rss.values;
      console.log(
        `${String(seconds).padStart(4)}s  requests ${stats.requests}  errors ${stats.errors}  rss ${rss.text}`,
      );
    }, REPORT_EVERY_MS);
    const totpUsers = users.filter((u) => u.totp);
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < totpUsers.length; i += TOTP_USERS_PER_LANE) {
      lanes.push(totpLane(totpUsers.slice(i, i + TOTP_USERS_PER_LANE), until));
    }
    lanes.push(
      emailLane(
        users.filter((u) => !u.totp),
        until,
      ),
    );
    lanes.push(adminLane(admin, until));
    await Promise.all(lanes);
    clearInterval(reporter);

    const end = await rssLine();
    const seconds = (Date.now() - began) / 1000;
    console.log(`\ntotal: ${stats.requests} requests in ${seconds.toFixed(0)} s`);
    console.log(`  (${(stats.requests / seconds).toFixed(1)}/s), errors ${stats.errors}`);
    for (const [operation, count] of [...stats.byOperation].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${operation.padEnd(22)} ${count}`);
    }
    const signed = (bytes: number) => `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;
    end.values.forEach((value, i) => {
      const first = start.values[i]!;
      const settled = warm?.[i] ?? first;
      console.log(
        `rss ${'AB'[i]}: ${mb(first)} → ${mb(value)} (${signed(value - first)}; ${signed(value - settled)} since 30 s)`,
      );
    });
    for (const sample of stats.samples) console.log(`error: ${sample}`);
    return stats.errors > 0 ? 1 : 0;
  } finally {
    await Promise.all(instances.map(stopInstance));
    await mailbox.close();
    await onServer(`drop database if exists ${DATABASE} with (force)`);
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 2;
});
