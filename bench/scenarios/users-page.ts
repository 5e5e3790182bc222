import { sql } from 'kysely';
import type { Org } from '../../src/store/schema.ts';
import { spread, type Spread } from '../lib/load.ts';
import { insertUsers, type BenchRuntime } from '../lib/seed.ts';

/** Requests before the measured ones, which warm the server's and the database's caches. */
const WARM_UP_REQUESTS = 20;

export const PAGE_CASES = [
  { name: 'first page', query: '?limit=50' },
  { name: 'filtered page (mfa=enrolled)', query: '?limit=50&mfa=enrolled' },
] as const;

/**
 * The big org of (7): `count` members, a third of them enrolled (an active factor, so that the
 * filter has something to find), as bench/users-page.ts seeds them.
 */
export async function seedPageOrg(runtime: BenchRuntime, org: Org, count: number): Promise<void> {
  const db = runtime.deps.db;
  await insertUsers(db, org, { prefix: 'p', count, passwordHash: runtime.passwordHash });
  await sql`
    insert into factors (user_id, org_id, type, state, secret_ciphertext, created_at, activated_at)
    select id, org_id, 'totp', 'active', 'v1.x.y', now(), now()
    from users where org_id = ${org.id} and role = 'member' and abs(hashtext(id::text)) % 3 = 0`.execute(
    db,
  );
  await sql`update users set mfa_enrolled = true where org_id = ${org.id}
    and id in (select user_id from factors where org_id = ${org.id})`.execute(db);
}

async function pageP95(url: string, cookie: string, samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < WARM_UP_REQUESTS + samples; i += 1) {
    const start = performance.now();
    const response = await fetch(url, { headers: { cookie } });
    await response.arrayBuffer();
    const ms = performance.now() - start;
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    if (i >= WARM_UP_REQUESTS) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.ceil(times.length * 0.95) - 1]!;
}

/**
 * (7) GET /org/users as the org's admin, one request at a time through HTTP: the p95 of each run,
 * summarized over the runs, for each case.
 */
export async function measureUsersPage(
  baseUrl: string,
  adminCookie: string,
  options: { runs: number; samples: number },
): Promise<{ name: string; p95: Spread }[]> {
  const results = [];
  for (const pageCase of PAGE_CASES) {
    const url = `${baseUrl}/api/v1/org/users${pageCase.query}`;
    const p95s: number[] = [];
    for (let i = 0; i < options.runs; i += 1) {
      p95s.push(await pageP95(url, adminCookie, options.samples));
    }
    results.push({ name: pageCase.name, p95: spread(p95s) });
  }
  return results;
}
