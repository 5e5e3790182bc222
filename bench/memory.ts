/**
 * `npm run bench:memory`: the resident memory of a server after a warm-up, on the embedded PGlite
 * (with PGlite's own default settings, then with the settings src/store/db.ts gives it) and on
 * PostgreSQL, each started as `npm start` starts it; with the throughput of two hot paths, as a
 * ratio to PGlite's defaults measured in the same run. Prints figures; asserts nothing.
 *
 *   BENCH_POSTGRES_URL  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test);
 *                       the bench works in a database of its own, created and dropped
 *   BENCH_RUNS          timed loads per throughput figure (default 3)
 *   BENCH_SECONDS       seconds per timed load (default 3)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { generateTotp, totpStepAt } from '../src/core/totp.ts';
import type { DatabaseTarget } from '../src/store/db.ts';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase } from './lib/database.ts';
import { runLoad, spread, type Spread } from './lib/load.ts';
import {
  adminEmail,
  createOrg,
  createTotpUserSource,
  insertSessions,
  insertUsers,
  openBenchRuntimeOn,
  type TotpUser,
} from './lib/seed.ts';
import { startServer, startFlags, type PortcullisServer } from './lib/server.ts';
import { figure, formatTable, ratio, type Row } from './lib/table.ts';
import { measureSignIn, signInCookie, signInCookies } from './scenarios/sign-in.ts';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DATABASE = 'portcullis_bench_memory';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 10;
/** The resident memory a server on the embedded store should stay under after its warm-up. */
const TARGET_RSS_MB = 300;

/** Warm-up: sign-ins, TOTP verifications, GET /me and users pages, a bounded number of each. */
const SIGN_IN_USERS = 200;
const TOTP_VERIFICATIONS = 100;
const ME_SESSIONS = 20;
const ME_REQUESTS = 2_000;
const USERS_PAGES = 50;
/** After the warm-up, before reading the memory: whatever the last requests left in flight ends. */
const SETTLE_MS = 2_000;

type Store = 'pglite-defaults' | 'pglite' | 'postgres';
const storeNames: Record<Store, string> = {
  'pglite-defaults': "PGlite, PGlite's default settings",
  pglite: 'PGlite, as shipped (the embedded default)',
  postgres: 'PostgreSQL',
};
const pgliteDefaults = fileURLToPath(new URL('./lib/pglite-defaults.ts', import.meta.url));
/**
 * The baseline: PGlite's own settings, and V8's own number of WebAssembly compilation tasks (a
 * later flag wins over the one `npm start` gives).
 */
const baselineNodeArgs = [`--import=${pgliteDefaults}`, '--wasm-num-compilation-tasks=128'];

type Figures = {
  rssBytes: number;
  peakRssBytes: number;
  me: Spread;
  signIn: Spread;
  totpErrors: number;
};

const started = performance.now();
const log = (line: string) =>
  process.stderr.write(
    `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
  );

const masterKey = randomBytes(32);
const startFlagsText = (await startFlags()).join(' ');
const results = new Map<Store, Figures>();
for (const store of ['pglite-defaults', 'pglite', 'postgres'] as const) {
  log(`${storeNames[store]}: seeding`);
  results.set(store, await measureStore(store));
}
process.stdout.write(`\n${report()}\n`);

/** Seeds a fresh store, starts a server on it, warms it up, reads its memory, measures. */
async function measureStore(store: Store): Promise<Figures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-bench-memory-'));
  const url = databaseUrl(POSTGRES_URL, DATABASE);
  if (store === 'postgres') await recreateBenchDatabase(POSTGRES_URL, DATABASE);
  const target: DatabaseTarget =
    store === 'postgres' ? { kind: 'postgres', url, poolSize: 4 } : { kind: 'pglite', dataDir };
  let server: PortcullisServer | undefined;
  try {
    const seeded = await seed(target);
    log(`${storeNames[store]}: starting the server`);
    server = await startServer({
      encryptionKey: masterKey.toString('base64'),
      authRateLimit: 1_000_000,
      dataDir,
      ...(store === 'postgres' ? { databaseUrl: url } : {}),
      ...(store === 'pglite-defaults' ? { nodeArgs: baselineNodeArgs } : {}),
    });
    log(`${storeNames[store]}: warm-up`);
    const totpErrors = await warmUp(server, seeded);
    await sleep(SETTLE_MS);
    const rssBytes = await server.rssBytes();
    log(`${storeNames[store]}: ${mb(rssBytes)} MB resident; measuring GET /me and sign-in`);
    const cookies = await signInCookies(signInTarget(server), ME_SESSIONS);
    const me = await throughput(server, (i) => ({
      path: '/api/v1/me',
      headers: { cookie: cookies[i % cookies.length]! },
    }));
    const signIn = (
      await measureSignIn(signInTarget(server), {
        runs: RUNS,
        seconds: SECONDS,
        connections: CONNECTIONS,
      })
    ).requestsPerSecond;
    return { rssBytes, peakRssBytes: await server.peakRssBytes(), me, signIn, totpErrors };
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (store === 'postgres') await dropBenchDatabase(POSTGRES_URL, DATABASE);
  }
}

type Seeded = { totpUsers: TotpUser[]; pendingTokens: string[] };

/**
 * The org, its users and TOTP users waiting for their second factor, written before the server
 * starts: PGlite belongs to one process, so nothing can be added while the server runs.
 */
async function seed(target: DatabaseTarget): Promise<Seeded> {
  const runtime = await openBenchRuntimeOn(target, masterKey);
  try {
    const org = await createOrg(runtime.deps, 'memory', 'enabled');
    await insertUsers(runtime.deps.db, org, {
      prefix: 's',
      count: SIGN_IN_USERS,
      passwordHash: runtime.passwordHash,
    });
    const totpUsers = await createTotpUserSource(runtime, org)(TOTP_VERIFICATIONS);
    const pendingTokens = await insertSessions(
      runtime.deps.db,
      totpUsers.map((user) => user.userId),
      'mfa_required',
      1,
    );
    return { totpUsers, pendingTokens };
  } finally {
    await runtime.store.close();
  }
}

function signInTarget(server: PortcullisServer) {
  return { baseUrl: server.baseUrl, orgSlug: 'memory', prefix: 's', userCount: SIGN_IN_USERS };
}

/** Sign-ins, TOTP verifications, GET /me and users pages; returns the verifications refused. */
async function warmUp(server: PortcullisServer, seeded: Seeded): Promise<number> {
  const cookies = await signInCookies(signInTarget(server), ME_SESSIONS);
  let verification = 0;
  const totp = await runLoad({
    baseUrl: server.baseUrl,
    connections: 4,
    amount: seeded.totpUsers.length,
    next: () => {
      const index = verification;
      verification += 1;
      const user = seeded.totpUsers[index]!;
      return {
        method: 'POST',
        path: '/api/v1/auth/mfa/verify',
        headers: { cookie: `portcullis_session=${seeded.pendingTokens[index]!}` },
        body: { method: 'totp', code: generateTotp(user.secret, totpStepAt(new Date())) },
      };
    },
  });
  let request = 0;
  await runLoad({
    baseUrl: server.baseUrl,
    connections: CONNECTIONS,
    amount: ME_REQUESTS,
    next: () => ({
      path: '/api/v1/me',
      headers: { cookie: cookies[(request += 1) % cookies.length]! },
    }),
  });
  const admin = await signInCookie(server.baseUrl, 'memory', adminEmail('memory'));
  await runLoad({
    baseUrl: server.baseUrl,
    connections: 1,
    amount: USERS_PAGES,
    next: () => ({ path: '/api/v1/org/users?limit=50', headers: { cookie: admin } }),
  });
  return totp.errors;
}

/** Requests per second of a GET, over RUNS timed loads after a warm-up of its own. */
async function throughput(
  server: PortcullisServer,
  next: (i: number) => { path: string; headers: Record<string, string> },
): Promise<Spread> {
  let i = 0;
  const load = { baseUrl: server.baseUrl, connections: CONNECTIONS, next: () => next((i += 1)) };
  await runLoad({ ...load, amount: 50 * CONNECTIONS });
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    rates.push((await runLoad({ ...load, seconds: SECONDS })).requestsPerSecond);
  }
  return spread(rates);
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function report(): string {
  const baseline = results.get('pglite-defaults')!;
  const rows: Row[] = [];
  for (const [store, figures] of results) {
    const embedded = store === 'pglite';
    rows.push({
      scenario: `${storeNames[store]}: RSS after warm-up`,
      figure: `${mb(figures.rssBytes)} MB (peak ${mb(figures.peakRssBytes)} MB)`,
      target: embedded ? `≤ ${TARGET_RSS_MB} MB` : '',
      ratio: ratio(figures.rssBytes / baseline.rssBytes),
      met: embedded ? figures.rssBytes <= TARGET_RSS_MB * 1024 * 1024 : null,
    });
  }
  for (const [store, figures] of results) {
    const tuned = store === 'pglite';
    rows.push({
      scenario: `${storeNames[store]}: GET /me`,
      figure: figure(figures.me, 'req/s'),
      target: tuned ? '≥ 0.90× defaults' : '',
      ratio: ratio(figures.me.median / baseline.me.median),
      met: tuned ? figures.me.median / baseline.me.median >= 0.9 : null,
    });
    rows.push({
      scenario: `${storeNames[store]}: sign-in`,
      figure: figure(figures.signIn, 'req/s'),
      target: tuned ? '≥ 0.90× defaults' : '',
      ratio: ratio(figures.signIn.median / baseline.signIn.median),
      met: tuned ? figures.signIn.median / baseline.signIn.median >= 0.9 : null,
    });
  }
  const refused = [...results.values()].reduce((sum, f) => sum + f.totpErrors, 0);
  return formatTable(rows, [
    `Servers started as \`npm start\` starts them (node ${startFlagsText}), LOG_LEVEL=warn, one at a time on a store seeded before it starts (PGlite belongs to one process).`,
    `Warm-up: ${ME_SESSIONS} sign-ins, ${TOTP_VERIFICATIONS} TOTP verifications, ${ME_REQUESTS} GET /me on ${CONNECTIONS} connections, ${USERS_PAGES} users pages; RSS (VmRSS) read ${SETTLE_MS / 1000} s after it; peak is VmHWM over the whole life of the server, measurements included.`,
    `Ratios are to PGlite with its own default settings (bench/lib/pglite-defaults.ts), measured in the same run. Throughput: median (min–max) of ${RUNS} loads of ${SECONDS} s on ${CONNECTIONS} connections; sign-in round-robins over ${SIGN_IN_USERS} users and is argon2id-bound.`,
    `TOTP verifications refused during the warm-ups: ${refused} (should be 0).`,
  ]);
}
