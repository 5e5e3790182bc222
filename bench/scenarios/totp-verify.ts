import type { Kysely } from 'kysely';
import { generateTotp, totpStepAt } from '../../src/core/totp.ts';
import type { Database } from '../../src/store/schema.ts';
import { runLoad, summarize, type RunFigures, type Series } from '../lib/load.ts';
import { insertSessions, type TotpUser, type TotpUserSource } from '../lib/seed.ts';

/**
 * (3) POST /auth/mfa/verify with valid codes that were never used: every request carries the
 * pending session (password done, status mfa_required, AAL1) of a distinct user who has not
 * verified yet, with the code of the current 30 s step computed when the request is built.
 */

function verifyRequest(token: string, user: TotpUser) {
  return {
    method: 'POST' as const,
    path: '/api/v1/auth/mfa/verify',
    headers: { cookie: `portcullis_session=${token}` },
    body: { method: 'totp', code: generateTotp(user.secret, totpStepAt(new Date())) },
  };
}

/** Seeds one pending session per request; autocannon asks for exactly `amount` requests. */
async function pendingSessionRequests(db: Kysely<Database>, users: TotpUser[]) {
  const tokens = await insertSessions(
    db,
    users.map((user) => user.userId),
    'mfa_required',
    1,
  );
  let next = 0;
  return () => {
    const index = next;
    next += 1;
    if (index >= users.length) throw new Error('more requests than pending sessions');
    return verifyRequest(tokens[index]!, users[index]!);
  };
}

/**
 * One run against each of the given instances at once: connections and requests split evenly,
 * throughputs summed, the worst latencies kept.
 */
async function oneRun(
  db: Kysely<Database>,
  newUsers: TotpUserSource,
  baseUrls: string[],
  options: { amount: number; connections: number },
): Promise<RunFigures> {
  const share = Math.floor(options.amount / baseUrls.length);
  const loads = await Promise.all(
    baseUrls.map(async (baseUrl) => ({
      baseUrl,
      connections: Math.max(1, Math.floor(options.connections / baseUrls.length)),
      amount: share,
      next: await pendingSessionRequests(db, await newUsers(share)),
    })),
  );
  const results = await Promise.all(loads.map((load) => runLoad(load)));
  const answered = results.reduce((sum, r) => sum + r.requests, 0);
  const missing = share * baseUrls.length - answered;
  return {
    requestsPerSecond: results.reduce((sum, r) => sum + r.requestsPerSecond, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    // A request that got no answer is an error too.
    errors: results.reduce((sum, r) => sum + r.errors, 0) + Math.max(0, missing),
  };
}

/** Warm-up requests (spread over the instances): their rate sizes the first measured run. */
const TOTP_WARM_UP_REQUESTS = 300;
/** Fewest requests in a run, so that its p99 rests on enough answers. */
const MIN_REQUESTS = 200;

export type TotpSeriesOptions = {
  runs: number;
  seconds: number;
  connections: number;
  /** Requests of every run; by default the previous run's rate times `seconds`, up to the cap. */
  requestsPerRun: number | null;
  maxRequestsPerRun: number;
};

/**
 * A warm-up, then `runs` runs of a fixed number of requests, each sized (unless told) so that it
 * lasts about `seconds`, as the peer sizes its own. Any answer but 200 is an error.
 */
export async function measureTotpVerify(
  db: Kysely<Database>,
  newUsers: TotpUserSource,
  baseUrls: string[],
  options: TotpSeriesOptions,
): Promise<Series> {
  const run = (amount: number) =>
    oneRun(db, newUsers, baseUrls, { amount, connections: options.connections });
  let rate = (await run(TOTP_WARM_UP_REQUESTS)).requestsPerSecond;
  const runs: RunFigures[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const sized = Math.max(MIN_REQUESTS, Math.round(rate * options.seconds));
    const amount = options.requestsPerRun ?? Math.min(options.maxRequestsPerRun, sized);
    const figures = await run(amount);
    runs.push(figures);
    rate = figures.requestsPerSecond;
  }
  return summarize(runs);
}

/**
 * Before measuring: a seeded pending session really verifies (200, authenticated, AAL2), and the
 * same code on a second pending session of the same user is refused as a replay.
 */
export async function checkTotpVerification(
  db: Kysely<Database>,
  newUsers: TotpUserSource,
  baseUrl: string,
): Promise<{ replayRefused: boolean }> {
  const [user] = await newUsers(1);
  const [first, second] = await insertSessions(db, [user!.userId, user!.userId], 'mfa_required', 1);
  const request = verifyRequest(first!, user!);
  const post = (token: string) =>
    fetch(`${baseUrl}${request.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `portcullis_session=${token}` },
      body: JSON.stringify(request.body),
    });
  const verified = await post(first!);
  const body = (await verified.json()) as { status?: string; aal?: number };
  if (verified.status !== 200 || body.status !== 'authenticated' || body.aal !== 2) {
    throw new Error(
      `a seeded pending session did not verify: ${verified.status} ${JSON.stringify(body)}`,
    );
  }
  const replay = await post(second!);
  const replayBody = (await replay.json()) as { error?: string };
  return { replayRefused: replay.status !== 200 && replayBody.error === 'invalid_code' };
}
