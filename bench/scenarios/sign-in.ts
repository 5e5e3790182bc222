import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, summarize, type RunFigures, type Series } from '../lib/load.ts';
import { BENCH_PASSWORD, userEmail } from '../lib/seed.ts';
import { SETTLE_MS, timedSeries, type SeriesOptions } from '../lib/series.ts';

/** Sign-ins are argon2id-bound: two per connection warm the code around the hash. */
const WARM_UP_PER_CONNECTION = 2;

export type SignInTarget = {
  baseUrl: string;
  orgSlug: string;
  /** Members <prefix>1 … <prefix><userCount> of the org, none with MFA, all with BENCH_PASSWORD. */
  prefix: string;
  userCount: number;
};

/**
 * Sign-ins round-robin over many users: the per-account lock counts every sign-in in flight
 * against its account, so one account under 10 connections would lock itself.
 */
function signInRequests(target: SignInTarget) {
  let next = 0;
  return () => {
    next = (next % target.userCount) + 1;
    return {
      method: 'POST' as const,
      path: '/api/v1/auth/login',
      body: {
        org: target.orgSlug,
        email: userEmail(target.orgSlug, target.prefix, next),
        password: BENCH_PASSWORD,
      },
    };
  };
}

/** (2) POST /auth/login throughput and latency for users without MFA. */
export async function measureSignIn(target: SignInTarget, options: SeriesOptions): Promise<Series> {
  return timedSeries(options, {
    baseUrl: target.baseUrl,
    warmUpPerConnection: WARM_UP_PER_CONNECTION,
    next: signInRequests(target),
  });
}

/**
 * (5) /healthz on one connection while the sign-in storm of (2) runs: every argon2id hash is on
 * the thread pool, so the event loop should answer a probe at once whatever the sign-in load.
 */
export async function measureHealthDuringSignIn(
  target: SignInTarget,
  options: SeriesOptions,
): Promise<{ health: Series; signIn: Series }> {
  const health: RunFigures[] = [];
  const signIn: RunFigures[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const [storm, probe] = await Promise.all([
      runLoad({
        baseUrl: target.baseUrl,
        connections: options.connections,
        seconds: options.seconds,
        next: signInRequests(target),
      }),
      runLoad({
        baseUrl: target.baseUrl,
        connections: 1,
        seconds: options.seconds,
        next: () => ({ path: '/healthz' }),
      }),
    ]);
    signIn.push(storm);
    health.push(probe);
    await sleep(SETTLE_MS);
  }
  return { health: summarize(health), signIn: summarize(signIn) };
}

/** Signs `count` users in over HTTP and returns their session cookies (for GET /me). */
export async function signInCookies(target: SignInTarget, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    cookies.push(
      await signInCookie(
        target.baseUrl,
        target.orgSlug,
        userEmail(target.orgSlug, target.prefix, i),
      ),
    );
  }
  return cookies;
}

export async function signInCookie(baseUrl: string, org: string, email: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org, email, password: BENCH_PASSWORD }),
  });
  const body = (await response.json()) as { status?: string };
  if (response.status !== 200 || body.status !== 'authenticated') {
    throw new Error(`sign-in of ${email} answered ${response.status} ${JSON.stringify(body)}`);
  }
  for (const header of response.headers.getSetCookie()) {
    const match = /^portcullis_session=([^;]+)/.exec(header);
    if (match) return `portcullis_session=${match[1]}`;
  }
  throw new Error(`sign-in of ${email} set no session cookie`);
}
