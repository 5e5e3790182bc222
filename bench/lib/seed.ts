import { authenticate } from '../../src/core/authentication-facts.ts';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { deriveServerKeys, encryptSecret } from '../../src/core/secret-box.ts';
import { defaultSessionLifetimes } from '../../src/core/session-rules.ts';
import { TOTP_SECRET_BYTES } from '../../src/core/totp.ts';
import { SESSION_TOKEN_BYTES } from '../../src/core/limits.ts';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import { createDevOutbox } from '../../src/mail/mailer.ts';
import { createOrgWithAdmin } from '../../src/services/org/accounts.ts';
import { systemClock, type ServiceDeps } from '../../src/services/deps.ts';
import { createPasswordHasher } from '../../src/services/password/hasher.ts';
import { createSsoProviders } from '../../src/services/sso/client.ts';
import { totpSecretAad } from '../../src/services/mfa/totp/secret.ts';
import { openStore, type DatabaseTarget, type Store } from '../../src/store/db.ts';
import type { Database, MfaPolicy, Org, SessionStatus } from '../../src/store/schema.ts';

/**
 * Bench data, written the way the server would write it: the same master key, the same argon2id
 * parameters, the same encryption of TOTP secrets; bulk rows in SQL so that seeding stays fast.
 */

/** Every bench user has this password, hashed once with the server's parameters (no rehash). */
export const BENCH_PASSWORD = 'bench password 1';

export type BenchRuntime = { store: Store; deps: ServiceDeps; passwordHash: string };

export async function openBenchRuntime(url: string, masterKey: Buffer): Promise<BenchRuntime> {
  return openBenchRuntimeOn({ kind: 'postgres', url, poolSize: 4 }, masterKey);
}

/** The same on any store: the embedded PGlite in a data dir too (closed before a server opens it). */
export async function openBenchRuntimeOn(
  target: DatabaseTarget,
  masterKey: Buffer,
): Promise<BenchRuntime> {
  const store = await openStore(target);
  await store.migrate();
  const passwords = await createPasswordHasher();
  const deps: ServiceDeps = {
    db: store.db,
    clock: systemClock,
    randomBytes,
    passwords,
    sessionLifetimes: defaultSessionLifetimes,
    keys: deriveServerKeys(masterKey),
    publicUrl: new URL('http://localhost:3000'),
    ssoProviders: createSsoProviders({ allowLoopback: false }),
    mailer: createDevOutbox(
      '/tmp/portcullis-bench-outbox',
      () => {},
      () => new Date(),
    ),
  };
  return { store, deps, passwordHash: await passwords.hash(BENCH_PASSWORD) };
}

export function adminEmail(slug: string): string {
  return `admin@${slug}.test`;
}

export function userEmail(slug: string, prefix: string, index: number): string {
  return `${prefix}${index}@${slug}.test`;
}

/** An org and its admin through the product's own service, then the given policy. */
export async function createOrg(deps: ServiceDeps, slug: string, policy: MfaPolicy): Promise<Org> {
  const created = await createOrgWithAdmin(
    deps,
    {
      slug,
      name: slug,
      admin: { email: adminEmail(slug), name: 'Admin', password: BENCH_PASSWORD },
    },
    null,
  );
  if (!created.ok) throw new Error(`cannot create org ${slug}: ${created.error}`);
  return deps.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', created.value.org.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** `count` members named <prefix><i>@<slug>.test, 1-based, one second apart in creation order. */
export async function insertUsers(
  db: Kysely<Database>,
  org: Org,
  options: { prefix: string; count: number; passwordHash: string },
): Promise<void> {
  const { prefix, count, passwordHash } = options;
  const domain = `@${org.slug}.test`;
  await sql`
    insert into users (org_id, email, email_key, name, role, password_hash, created_at)
    select ${org.id}, ${prefix} || i || ${domain}, ${prefix} || i || ${domain}, 'User ' || i,
      'member', ${passwordHash}, now() - (${count} - i) * interval '1 second'
    from generate_series(1, ${count}) as i`.execute(db);
}

export type TotpUser = { userId: string; secret: Uint8Array };

/**
 * An active authenticator app for every user of the org whose email starts with `prefix`, sealed
 * exactly as TOTP enrollment seals it, plus the 10 recovery codes an enrolled user has.
 */
export async function enrollTotp(deps: ServiceDeps, org: Org, prefix: string): Promise<TotpUser[]> {
  const rows = await deps.db
    .selectFrom('users')
    .select('id')
    .where('org_id', '=', org.id)
    .where('email', 'like', `${prefix}%`)
    .orderBy('created_at')
    .execute();
  const users = rows.map((row) => ({ userId: row.id, secret: randomBytes(TOTP_SECRET_BYTES) }));
  const sealed = users.map((user) =>
    encryptSecret(deps.keys.encryption, user.secret, totpSecretAad(user.userId), randomBytes),
  );
  const ids = users.map((user) => user.userId);
  await sql`
    insert into factors (user_id, org_id, type, state, secret_ciphertext, created_at, activated_at)
    select t.user_id, ${org.id}, 'totp', 'active', t.sealed, now(), now()
    from unnest(${ids}::uuid[], ${sealed}::text[]) as t(user_id, sealed)`.execute(deps.db);
  await sql`
    insert into recovery_codes (user_id, code_hmac, created_at)
    select t.user_id, encode(sha256((t.user_id::text || '/' || n)::bytea), 'hex'), now()
    from unnest(${ids}::uuid[]) as t(user_id), generate_series(1, 10) as n`.execute(deps.db);
  await sql`update users set mfa_enrolled = true where id = any(${ids}::uuid[])`.execute(deps.db);
  return users;
}

/**
 * A source of enrolled users who have never verified a code, seeded in batches as asked: a
 * verified TOTP step cannot be used again, so every verification needs a user of its own.
 */
export function createTotpUserSource(runtime: BenchRuntime, org: Org) {
  let batches = 0;
  return async (count: number): Promise<TotpUser[]> => {
    batches += 1;
    const prefix = `t${batches}-`;
    await insertUsers(runtime.deps.db, org, {
      prefix,
      count,
      passwordHash: runtime.passwordHash,
    });
    return enrollTotp(runtime.deps, org, prefix);
  };
}

export type TotpUserSource = ReturnType<typeof createTotpUserSource>;

/**
 * One session per user, in the given state, as a sign-in would make it (epochs of the moment);
 * returns the cookie tokens in the same order.
 */
/** How the seeded sessions authenticated: the facts a real sign-in would record. */
const PASSWORD_ONLY = authenticate(null, { method: 'password' }, new Date());
const SECOND_FACTOR = authenticate(PASSWORD_ONLY, { method: 'totp' }, new Date());

export async function insertSessions(
  db: Kysely<Database>,
  userIds: string[],
  status: SessionStatus,
  aal: number,
): Promise<string[]> {
  const tokens = userIds.map(() => generateToken(randomBytes, SESSION_TOKEN_BYTES));
  const hashes = tokens.map(hashToken);
  const facts = aal >= 2 ? SECOND_FACTOR : PASSWORD_ONLY;
  await sql`
    insert into sessions (token_hash, user_id, org_id, status, aal, org_epoch, user_epoch,
      created_at, last_seen_at, ip, user_agent, auth_time, acr, amr)
    select t.token_hash, u.id, u.org_id, ${status}, ${aal}, o.session_epoch, u.session_epoch,
      now(), now(), '127.0.0.1', 'portcullis-bench', now(), ${facts.acr},
      ${JSON.stringify(facts.amr)}::jsonb
    from unnest(${hashes}::text[], ${userIds}::uuid[]) as t(token_hash, user_id)
    join users u on u.id = t.user_id
    join orgs o on o.id = u.org_id`.execute(db);
  return tokens;
}

/**
 * `count` more signed-in sessions spread over the org's users, in one statement. As a superuser
 * the foreign-key triggers are skipped for it (session_replication_role): a million per-row
 * checks take a minute, and every row references an existing user and org all the same.
 */
export async function insertBulkSessions(
  db: Kysely<Database>,
  org: Org,
  count: number,
  label: string,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const superuser = await sql<{ on: boolean }>`
      select current_setting('is_superuser') = 'on' as on`.execute(tx);
    if (superuser.rows[0]?.on) await sql`set local session_replication_role = replica`.execute(tx);
    await sql`
      with members as (select array_agg(id) as ids from users where org_id = ${org.id})
      insert into sessions (token_hash, user_id, org_id, status, aal, org_epoch, user_epoch,
        created_at, last_seen_at, ip, user_agent, auth_time, acr, amr)
      select encode(sha256((${label} || i)::bytea), 'hex'),
        members.ids[1 + i % cardinality(members.ids)], ${org.id}, 'authenticated', 1,
        (select session_epoch from orgs where id = ${org.id}), 0, now(), now(), '127.0.0.1', null,
        now(), ${PASSWORD_ONLY.acr}, ${JSON.stringify(PASSWORD_ONLY.amr)}::jsonb
      from members, generate_series(1, ${count}) as i`.execute(tx);
  });
}
