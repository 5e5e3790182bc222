import { sql } from 'kysely';
import { invalidateOrgSessions } from '../../src/services/session/sessions.ts';
import type { Org } from '../../src/store/schema.ts';
import { spread, type Spread } from '../lib/load.ts';
import { insertBulkSessions, insertSessions, type BenchRuntime } from '../lib/seed.ts';

/**
 * (6) Ending every session of an org, through the service the CLI (`sessions revoke --org`) and
 * the policy routes call: one transaction that bumps the org's epoch and writes the audit event.
 * Timed with a small and a large number of live sessions in the org.
 */

/** One timed invalidation. */
async function timeInvalidation(runtime: BenchRuntime, org: Org): Promise<number> {
  const start = performance.now();
  await invalidateOrgSessions(runtime.deps, { orgId: org.id, actorUserId: null, reason: 'bench' });
  return performance.now() - start;
}

/**
 * A live session of the org answers GET /me before an invalidation and 401 after it: proof that
 * the timed call is the one that ends sessions.
 */
async function checkedInvalidation(
  runtime: BenchRuntime,
  org: Org,
  baseUrl: string,
): Promise<number> {
  const member = await runtime.deps.db
    .selectFrom('users')
    .select('id')
    .where('org_id', '=', org.id)
    .executeTakeFirstOrThrow();
  const [token] = await insertSessions(runtime.deps.db, [member.id], 'authenticated', 1);
  const me = () =>
    fetch(`${baseUrl}/api/v1/me`, { headers: { cookie: `portcullis_session=${token}` } }).then(
      (response) => response.status,
    );
  const before = await me();
  const ms = await timeInvalidation(runtime, org);
  const after = await me();
  if (before !== 200 || after !== 401) {
    throw new Error(`invalidation check: GET /me answered ${before} before and ${after} after`);
  }
  return ms;
}

async function timings(runtime: BenchRuntime, org: Org, baseUrl: string, count: number) {
  const times = [await checkedInvalidation(runtime, org, baseUrl)];
  while (times.length < count) times.push(await timeInvalidation(runtime, org));
  return spread(times);
}

export async function measureInvalidation(
  runtime: BenchRuntime,
  org: Org,
  baseUrl: string,
  options: { sessions: [number, number]; timings: number },
): Promise<{ small: Spread; large: Spread; largeSeedSeconds: number }> {
  const [smallCount, largeCount] = options.sessions;
  const db = runtime.deps.db;
  await insertBulkSessions(db, org, smallCount, 'small-');
  await sql`vacuum analyze sessions`.execute(db);
  const small = await timings(runtime, org, baseUrl, options.timings);
  const seedStart = performance.now();
  await insertBulkSessions(db, org, largeCount - smallCount, 'large-');
  await sql`vacuum analyze sessions`.execute(db);
  const largeSeedSeconds = (performance.now() - seedStart) / 1000;
  const large = await timings(runtime, org, baseUrl, options.timings);
  return { small, large, largeSeedSeconds };
}
