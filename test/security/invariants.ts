import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.ts';

/**
 * What must hold in the database whatever the requests were, and whenever a process died: each
 * query counts the rows that break one rule, and a healthy database has none.
 */
export const invariants: Record<string, (db: Kysely<Database>) => Promise<number>> = {
  'an active factor without a secret': (db) =>
    countOf(
      db,
      sql`select count(*) from factors where state = 'active' and secret_ciphertext is null
      and type = 'totp'`,
    ),
  'more than one active factor of a type for a user': (db) =>
    countOf(
      db,
      sql`select count(*) from (select user_id, type from factors where state = 'active'
      group by user_id, type having count(*) > 1) as doubles`,
    ),
  'a recovery-code set larger than 10 unused codes': (db) =>
    countOf(
      db,
      sql`select count(*) from (select user_id from recovery_codes where used_at is null
      group by user_id having count(*) > 10) as big_sets`,
    ),
  'recovery codes for a user with no active factor': (db) =>
    countOf(
      db,
      sql`select count(*) from recovery_codes r where used_at is null and not exists
      (select 1 from factors f where f.user_id = r.user_id and f.state = 'active')`,
    ),
  'a session of a deleted user': (db) =>
    countOf(
      db,
      sql`select count(*) from sessions s where not exists
      (select 1 from users u where u.id = s.user_id)`,
    ),
  'mfa_enrolled out of step with the active factors': (db) =>
    countOf(
      db,
      sql`select count(*) from users u where u.mfa_enrolled <> exists
      (select 1 from factors f where f.user_id = u.id and f.state = 'active')`,
    ),
  'an email challenge both consumed and voided': (db) =>
    countOf(
      db,
      sql`select count(*) from email_challenges
      where consumed_at is not null and voided_at is not null`,
    ),
};

/** The names of the invariants the database breaks, with the number of offending rows. */
export async function brokenInvariants(db: Kysely<Database>): Promise<string[]> {
  const broken: string[] = [];
  for (const [name, count] of Object.entries(invariants)) {
    const rows = await count(db);
    if (rows > 0) broken.push(`${name}: ${rows}`);
  }
  return broken;
}

async function countOf(db: Kysely<Database>, query: ReturnType<typeof sql>): Promise<number> {
  const result = await (query as ReturnType<typeof sql<{ count: string | number }>>).execute(db);
  return Number(result.rows[0]?.count ?? 0);
}
