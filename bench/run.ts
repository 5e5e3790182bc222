/**
 * `npm run bench`: Portcullis on PostgreSQL under load, beside Better Auth measured the same way.
 * Starts real server processes on a database of its own (portcullis_bench, on BENCH_POSTGRES_URL),
 * seeds it, drives each scenario with autocannon on loopback and prints one table. Settings:
 * bench/lib/settings.ts. Not part of `npm test`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  BENCH_DATABASE,
  databaseUrl,
  dropBenchDatabase,
  recreateBenchDatabase,
} from './lib/database.ts';
import { measureBetterAuth, peerInstalled, type PeerFigures } from './lib/peer.ts';
import { buildRows, errorNote, type BenchResults } from './lib/report.ts';
import {
  adminEmail,
  BENCH_PASSWORD,
  createOrg,
  createTotpUserSource,
  insertUsers,
  openBenchRuntime,
} from './lib/seed.ts';
import { startServer, type PortcullisServer, type ServerOptions } from './lib/server.ts';
import { readSettings } from './lib/settings.ts';
import { formatTable } from './lib/table.ts';
import { measureRawArgon2 } from './scenarios/argon2-raw.ts';
import { measureInvalidation } from './scenarios/invalidation.ts';
import { measureMe } from './scenarios/me.ts';
import {
  measureHealthDuringSignIn,
  measureSignIn,
  signInCookie,
  signInCookies,
  type SignInTarget,
} from './scenarios/sign-in.ts';
import {
  checkTotpVerification,
  measureTotpVerify,
  type TotpSeriesOptions,
} from './scenarios/totp-verify.ts';
import { measureUsersPage, seedPageOrg } from './scenarios/users-page.ts';

/** The default pool (DEFAULT_POOL_SIZE): one connection per load connection, 20 for two instances. */
const POOL_SIZE = 10;
/** The per-IP sign-in limit (60/min by default) would stop a load that all comes from 127.0.0.1. */
const AUTH_RATE_LIMIT = 1_000_000;
/** Sign-in users: many more than connections, so that no account has two sign-ins in flight. */
const SIGN_IN_USERS = 1_000;
/** Members of the invalidation org, over which its sessions are spread. */
const INVALIDATION_ORG_USERS = 1_000;
/** Signed-in sessions that GET /me takes in turn. */
const ME_SESSIONS = 50;

const settings = readSettings(process.env, process.argv.slice(2));
if (settings.peer && !peerInstalled()) {
  process.stderr.write('bench/peers/better-auth/measure.ts is missing: run with BENCH_PEER=off\n');
  process.exit(2);
}
const started = performance.now();
const log = (line: string) =>
  process.stderr.write(
    `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
  );

const masterKey = randomBytes(32);
const benchUrl = databaseUrl(settings.postgresUrl, BENCH_DATABASE);
const loadOptions = {
  runs: settings.runs,
  seconds: settings.seconds,
  connections: settings.connections,
};
const profileDir = join(tmpdir(), 'portcullis-bench-profiles');
const serverOptions: ServerOptions = {
  databaseUrl: benchUrl,
  encryptionKey: masterKey.toString('base64'),
  poolSize: POOL_SIZE,
  authRateLimit: AUTH_RATE_LIMIT,
  ...(settings.profile ? { cpuProfileDir: profileDir } : {}),
};
if (settings.profile) {
  mkdirSync(profileDir, { recursive: true });
  log(`CPU profiles of the servers go to ${profileDir}`);
}

log(`PostgreSQL at ${new URL(settings.postgresUrl).host}: database ${BENCH_DATABASE}`);
const postgresVersion = await recreateBenchDatabase(settings.postgresUrl);
const runtime = await openBenchRuntime(benchUrl, masterKey);
const servers: PortcullisServer[] = [];
let peerFailure: string | null = null;
let output: string;
try {
  output = await runBench();
} finally {
  for (const server of servers) await server.stop();
  await runtime.store.close();
  await dropBenchDatabase(settings.postgresUrl);
}
process.stdout.write(`\n${output}\n`);

async function runBench(): Promise<string> {
  const { deps } = runtime;
  const totpOptions: TotpSeriesOptions = {
    runs: settings.runs,
    seconds: settings.seconds,
    connections: settings.connections,
    requestsPerRun: settings.totpRequestsPerRun,
    maxRequestsPerRun: settings.totpMaxRequestsPerRun,
  };
  log(
    `seeding: ${SIGN_IN_USERS} sign-in users, ${settings.pageOrgUsers} users in one org (TOTP users come with each run)`,
  );
  const mainOrg = await createOrg(deps, 'bench', 'enabled');
  await insertUsers(deps.db, mainOrg, {
    prefix: 's',
    count: SIGN_IN_USERS,
    passwordHash: runtime.passwordHash,
  });
  const newTotpUsers = createTotpUserSource(runtime, mainOrg);
  const pageOrg = await createOrg(deps, 'bench-page', 'enabled');
  await seedPageOrg(runtime, pageOrg, settings.pageOrgUsers);
  const sessionsOrg = await createOrg(deps, 'bench-sessions', 'disabled');
  await insertUsers(deps.db, sessionsOrg, {
    prefix: 'm',
    count: INVALIDATION_ORG_USERS,
    passwordHash: runtime.passwordHash,
  });
  await sql`vacuum analyze`.execute(deps.db);

  log('starting Portcullis');
  const primary = await startServer(serverOptions);
  servers.push(primary);
  const signInTarget: SignInTarget = {
    baseUrl: primary.baseUrl,
    orgSlug: mainOrg.slug,
    prefix: 's',
    userCount: SIGN_IN_USERS,
  };
  const { replayRefused } = await checkTotpVerification(deps.db, newTotpUsers, primary.baseUrl);
  if (!replayRefused) throw new Error('Portcullis accepted a replayed TOTP code');

  log('(1) raw argon2id verify');
  const rawArgon2 = await measureRawArgon2({
    hash: runtime.passwordHash,
    password: BENCH_PASSWORD,
    seconds: settings.seconds,
    runs: settings.runs,
  });
  log('(2) sign-in');
  const signIn = await measureSignIn(signInTarget, loadOptions);
  log('(5) /healthz during the sign-in storm');
  const healthDuringSignIn = await measureHealthDuringSignIn(signInTarget, loadOptions);
  log('(3) TOTP verify');
  const totpVerify = await measureTotpVerify(deps.db, newTotpUsers, [primary.baseUrl], totpOptions);
  log('(3) TOTP verify on two instances');
  const secondary = await startServer(serverOptions);
  servers.push(secondary);
  const totpVerifyTwoInstances = await measureTotpVerify(
    deps.db,
    newTotpUsers,
    [primary.baseUrl, secondary.baseUrl],
    totpOptions,
  );
  const secondaryRss = await secondary.peakRssBytes();
  await secondary.stop();
  servers.pop();

  log('(4) GET /me');
  const me = await measureMe(
    primary.baseUrl,
    await signInCookies(signInTarget, ME_SESSIONS),
    loadOptions,
  );
  log('(7) users page');
  const adminCookie = await signInCookie(primary.baseUrl, pageOrg.slug, adminEmail(pageOrg.slug));
  const usersPage = await measureUsersPage(primary.baseUrl, adminCookie, {
    runs: settings.runs,
    samples: settings.pageSamples,
  });
  log(`(6) org-wide invalidation, ${settings.invalidationSessions.join(' then ')} sessions`);
  const invalidation = await measureInvalidation(runtime, sessionsOrg, primary.baseUrl, {
    sessions: settings.invalidationSessions,
    timings: settings.invalidationTimings,
  });
  log(`    (${invalidation.largeSeedSeconds.toFixed(0)} s to insert the large set)`);
  const primaryRss = await primary.peakRssBytes();
  await primary.stop();
  servers.pop();

  let peer: PeerFigures | null = null;
  if (settings.peer) {
    log('Better Auth peer');
    try {
      peer = await measureBetterAuth({
        postgresUrl: settings.postgresUrl,
        runs: settings.runs,
        seconds: settings.seconds,
        connections: settings.connections,
        ...(settings.totpRequestsPerRun
          ? { verifyRequestsPerRun: settings.totpRequestsPerRun }
          : {}),
        log: (line) => log(`    ${line}`),
      });
    } catch (error) {
      // Portcullis' own figures stand without the peer: print them, say why the ratios are missing.
      peerFailure = error instanceof Error ? error.message : String(error);
      log(`the peer failed: ${peerFailure}`);
    }
  }

  const results: BenchResults = {
    rawArgon2,
    signIn,
    healthDuringSignIn,
    totpVerify,
    totpVerifyTwoInstances,
    me,
    invalidation: { ...invalidation, sessions: settings.invalidationSessions },
    usersPage,
    pageOrgUsers: settings.pageOrgUsers,
    peakRssBytes: [primaryRss, secondaryRss],
    peer,
  };
  log('done');
  return formatTable(buildRows(results), notes(results, postgresVersion));
}

function notes(results: BenchResults, postgresVersion: string): string[] {
  const peer = results.peer;
  return [
    peer
      ? `Replayed TOTP code: ${peer.name} ${peer.acceptsReplayedTotp ? 'accepts' : 'refuses'} one; Portcullis refuses it (checked before measuring): each of its verifications does the extra conditional UPDATE of the factor's last used step that refuses a replay.`
      : `Better Auth peer ${peerFailure ? `failed (${peerFailure})` : 'skipped (BENCH_PEER=off)'}: no ratios to it. Portcullis refuses a replayed TOTP code (checked before measuring).`,
    `Per-IP sign-in limit raised to ${AUTH_RATE_LIMIT}/min (PORTCULLIS_AUTH_RATE_LIMIT; default 60), as Better Auth's rate limiter is for its run: every request comes from 127.0.0.1.`,
    `Loads: autocannon in the bench process, ${settings.connections} connections, ${settings.runs} runs of ${settings.seconds} s; TOTP verify: a fixed number of requests a run (${settings.totpRequestsPerRun ?? `the previous run's rate × ${settings.seconds} s, at most ${settings.totpMaxRequestsPerRun}`}), each on a seeded pending session of a distinct user with the code of the current step. Sign-in round-robins over ${SIGN_IN_USERS} users. Users page: ${settings.pageSamples} sequential requests a run, p95 per run.`,
    `Servers: as \`npm start\` runs them (with its V8 memory limits), LOG_LEVEL=warn, DATABASE_POOL_SIZE=${POOL_SIZE} each, libuv thread pool ${process.env.UV_THREADPOOL_SIZE ?? 4}, at most one argon2id hash per core at a time (the server's own limit); (1) keeps ${2 * Number(process.env.UV_THREADPOOL_SIZE ?? 4)} verifications in flight in a separate process, with the same hash, while the server is idle. Two instances share the same ${cpus().length} cores as one: their scaling factor shows the cost of a second process, not added capacity, unless the machine has cores to spare. (6) times invalidateOrgSessions (epoch bump + audit event, one transaction).`,
    errorNote(results),
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores shared by server(s), PostgreSQL and the load generator; Node ${process.version}; PostgreSQL ${postgresVersion}; load average at the end ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}.`,
  ];
}
