/**
 * The admin's users list at scale: one page of a 100k-user org against the same page of a 1k-user
 * org, measured in the same run on the same database (embedded PGlite, or PostgreSQL with
 * DATABASE_URL). Prints p50/p95 per case and the 100k/1k ratio; nothing here is a pass/fail test.
 *
 *   npm run bench:users            # PGlite
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:users
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { deriveServerKeys } from '../src/core/secret-box.ts';
import { defaultSessionLifetimes } from '../src/core/session-rules.ts';
import { buildApp } from '../src/http/app.ts';
import { createDevOutbox } from '../src/mail/mailer.ts';
import { createOrgWithAdmin } from '../src/services/org/accounts.ts';
import { systemClock, type ServiceDeps } from '../src/services/deps.ts';
import { createPasswordHasher } from '../src/services/password/hasher.ts';
import { createSsoProviders } from '../src/services/sso/client.ts';
import { openStore } from '../src/store/db.ts';

const LARGE = Number(process.env.BENCH_USERS ?? 100_000);
const SMALL = 1_000;
const SAMPLES = 200;

const schema = `bench_${randomBytes(4).toString('hex')}`;
const url = process.env.DATABASE_URL;
const store = await openStore(
  url ? { kind: 'postgres', url, schema } : { kind: 'pglite', dataDir: null },
);
await store.migrate();
const deps: ServiceDeps = {
  db: store.db,
  clock: systemClock,
  randomBytes,
  passwords: await createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }),
  sessionLifetimes: defaultSessionLifetimes,
  keys: deriveServerKeys(randomBytes(32)),
  publicUrl: new URL('http://localhost:3000'),
  ssoProviders: createSsoProviders({ allowLoopback: false }),
  mailer: createDevOutbox(
    '/tmp/portcullis-bench-outbox',
    () => {},
    () => new Date(),
  ),
};
const app = await buildApp({
  store,
  deps,
  config: { baseUrl: null, trustProxy: false, logLevel: 'silent', redisUrl: null },
});

async function orgWithUsers(slug: string, count: number) {
  const created = await createOrgWithAdmin(
    deps,
    {
      slug,
      name: slug,
      admin: { email: `admin@${slug}.test`, name: 'Admin', password: 'bench password 1' },
    },
    null,
  );
  if (!created.ok) throw new Error(created.error);
  const orgId = created.value.org.id;
  // Bulk rows straight in SQL: a third enrolled (an active TOTP factor), a tenth SSO.
  await sql`
    insert into users (org_id, email, email_key, name, role, password_hash, sso, created_at)
    select ${orgId}, 'u' || i || '@${sql.raw(slug)}.test', 'u' || i || '@${sql.raw(slug)}.test', 'User ' || i, 'member',
      case when i % 10 = 0 then null else 'x' end, i % 10 = 0,
      now() - (${count} - i) * interval '1 second'
    from generate_series(1, ${count}) as i`.execute(store.db);
  await sql`
    insert into factors (user_id, org_id, type, state, secret_ciphertext, created_at, activated_at)
    select id, org_id, 'totp', 'active', 'v1.x.y', now(), now()
    from users where org_id = ${orgId} and not sso and abs(hashtext(id::text)) % 3 = 0`.execute(
    store.db,
  );
  await sql`update users set mfa_enrolled = true where org_id = ${orgId}
    and id in (select user_id from factors where org_id = ${orgId})`.execute(store.db);
  await sql`analyze`.execute(store.db);
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: slug, email: `admin@${slug}.test`, password: 'bench password 1' },
  });
  const cookie = login.cookies.find((c) => c.name === 'portcullis_session')?.value;
  return { cookie: `portcullis_session=${cookie}` };
}

async function cursorDeepIn(cookie: string, pages: number) {
  let cursor = '';
  for (let i = 0; i < pages; i += 1) {
    const page = await app.inject({
      url: `/api/v1/org/users?limit=200${cursor}`,
      headers: { cookie },
    });
    cursor = `&cursor=${page.json().next_cursor}`;
  }
  return cursor;
}

async function measure(cookie: string, query: string): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES + 20; i += 1) {
    const start = process.hrtime.bigint();
    const response = await app.inject({ url: `/api/v1/org/users${query}`, headers: { cookie } });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
    if (i >= 20) times.push(ms); // the first 20 warm caches up
  }
  times.sort((a, b) => a - b);
  return {
    p50: times[Math.floor(times.length * 0.5)]!,
    p95: times[Math.floor(times.length * 0.95)]!,
  };
}

const seedStart = Date.now();
const small = await orgWithUsers('bench-small', SMALL);
const large = await orgWithUsers('bench-large', LARGE);
console.log(
  `seeded ${SMALL} + ${LARGE} users on ${store.kind} in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`,
);

const cases: [string, (cookie: string) => Promise<string>][] = [
  ['first page (50)', async () => '?limit=50'],
  [
    'page 4 (after 3×200, via cursor)',
    async (cookie) => `?limit=50${await cursorDeepIn(cookie, 3)}`,
  ],
  ['filter enrolled (50)', async () => '?limit=50&mfa=enrolled'],
  ['filter not_enrolled (50)', async () => '?limit=50&mfa=not_enrolled'],
];
console.log(
  `\n${'case'.padEnd(36)} ${'1k p50/p95 ms'.padStart(16)} ${`${LARGE / 1000}k p50/p95 ms`.padStart(18)} ${'ratio p95'.padStart(10)}`,
);
for (const [name, queryFor] of cases) {
  const smallResult = await measure(small.cookie, await queryFor(small.cookie));
  const largeResult = await measure(large.cookie, await queryFor(large.cookie));
  console.log(
    `${name.padEnd(36)} ${`${smallResult.p50.toFixed(2)}/${smallResult.p95.toFixed(2)}`.padStart(16)} ${`${largeResult.p50.toFixed(2)}/${largeResult.p95.toFixed(2)}`.padStart(18)} ${(largeResult.p95 / smallResult.p95).toFixed(2).padStart(10)}`,
  );
}

await app.close();
if (url) await store.db.schema.dropSchema(schema).cascade().execute();
await store.close();
