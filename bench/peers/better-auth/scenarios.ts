import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { runLoad, summarize, type RunFigures, type Series } from '../../lib/load.ts';
import { cloneUser, PASSWORD, SESSION_COOKIE, totpCode } from './accounts.ts';
import type { PeerClient } from './client.ts';
import { insertPendingSignIns, TWO_FACTOR_COOKIE } from './pending-sign-ins.ts';

/** The three loads on Better Auth, each checked: a run with a failed answer throws. */

/**
 * Unreported requests before each scenario, per connection, so that no run pays for the JIT's
 * warm-up. A fixed count, not a time: each ends with no request left in flight. Sign-ins are
 * scrypt-bound (two per connection are enough to warm the code around the hash).
 */
export const SIGN_IN_WARM_UP_PER_CONNECTION = 2;
export const GET_SESSION_WARM_UP_PER_CONNECTION = 50;
/**
 * Pause after a timed run: autocannon drops the requests still in flight when the time is up, but
 * the server finishes them (a sign-in's scrypt hash cannot be cancelled); they must not overlap
 * the next run.
 */
const SETTLE_MS = 1000;
/** verify-totp warm-up, in requests: its rate sizes the first measured run. */
const VERIFY_WARM_UP_REQUESTS = 300;
/** Fewest requests in a verify-totp run, so that its p99 rests on enough answers. */
const MIN_VERIFY_REQUESTS = 200;

export type LoadSettings = {
  runs: number;
  seconds: number;
  connections: number;
  /** Requests of one verify-totp run; by default the previous run's rate times `seconds`. */
  verifyRequestsPerRun?: number;
};

/** What the seeding leaves for the loads. */
export type Setup = {
  db: pg.Client;
  client: PeerClient;
  secret: string;
  totpKey: Uint8Array;
  totpUser: { userId: string; email: string };
  signInEmails: string[];
  sessionCookies: string[];
};

type Next = Parameters<typeof runLoad>[0]['next'];

export function signInLoad(baseUrl: string, setup: Setup): Next {
  let turn = 0;
  return () => ({
    method: 'POST',
    path: '/api/auth/sign-in/email',
    headers: { origin: baseUrl },
    body: { email: setup.signInEmails[turn++ % setup.signInEmails.length], password: PASSWORD },
  });
}

export function getSessionLoad(setup: Setup): Next {
  let turn = 0;
  return () => ({
    path: '/api/auth/get-session',
    headers: {
      cookie: `${SESSION_COOKIE}=${setup.sessionCookies[turn++ % setup.sessionCookies.length]}`,
    },
  });
}

/** A warm-up, then `runs` loads of `seconds` each. */
export async function timedSeries(
  scenario: string,
  options: LoadSettings,
  scenarioLoad: { baseUrl: string; warmUpPerConnection: number; next: Next },
): Promise<Series> {
  const { baseUrl, warmUpPerConnection, next } = scenarioLoad;
  const load = { baseUrl, connections: options.connections, next };
  checkRun(scenario, await runLoad({ ...load, amount: warmUpPerConnection * options.connections }));
  const runs: RunFigures[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    runs.push(checkRun(scenario, await runLoad({ ...load, seconds: options.seconds })));
    await sleep(SETTLE_MS);
  }
  return summarize(runs);
}

/**
 * Each pending sign-in verifies once, so a run is a fixed number of requests, one per pending
 * sign-in made for it, each of a distinct user who has never verified (as in Portcullis' own
 * scenario). Unless told, the number is the previous run's rate times `seconds`, so that a run
 * lasts about as long as the timed scenarios; a warm-up run gives the first rate.
 */
export async function verifyTotpSeries(
  options: LoadSettings,
  baseUrl: string,
  setup: Setup,
): Promise<Series> {
  let batch = 0;
  const run = async (amount: number): Promise<RunFigures> => {
    batch += 1;
    const users = await cloneUser(
      setup.db,
      setup.totpUser.userId,
      amount,
      (index) => `totp-${batch}-${index}@bench.test`,
    );
    const cookies = await insertPendingSignIns(setup.db, setup.secret, users.ids);
    let turn = 0;
    const figures = await runLoad({
      baseUrl,
      connections: options.connections,
      amount,
      next: () => ({
        method: 'POST',
        path: '/api/auth/two-factor/verify-totp',
        headers: { origin: baseUrl, cookie: `${TWO_FACTOR_COOKIE}=${cookies[turn++]}` },
        body: { code: totpCode(setup.totpKey) },
      }),
    });
    if (figures.requests !== amount) {
      throw new Error(
        `Better Auth verify-totp: ${figures.requests} answers for ${amount} requests`,
      );
    }
    return checkRun('verify-totp', figures);
  };

  let rate = (await run(VERIFY_WARM_UP_REQUESTS)).requestsPerSecond;
  const runs: RunFigures[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const amount =
      options.verifyRequestsPerRun ??
      Math.max(MIN_VERIFY_REQUESTS, Math.round(rate * options.seconds));
    const figures = await run(amount);
    runs.push(figures);
    rate = figures.requestsPerSecond;
  }
  return summarize(runs);
}

/** Figures with failed answers in them would not compare with Portcullis' own. */
function checkRun(scenario: string, figures: RunFigures): RunFigures {
  // autocannon counts only the answers that arrive within the run: when each request takes longer
  // than the run (scrypt sign-ins on a busy machine), the run would report 0 req/s, not an error.
  if (figures.requests === 0) {
    throw new Error(
      `Better Auth ${scenario}: no answer arrived within the run; give it more seconds`,
    );
  }
  if (figures.errors > 0) {
    throw new Error(
      `Better Auth ${scenario}: ${figures.errors} of ${figures.requests} answers were not 200 or failed`,
    );
  }
  return figures;
}
