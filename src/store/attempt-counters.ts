import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type AttemptReservation =
  { allowed: true; failures: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts an attempt before it is checked, in one conditional upsert. Counting first is what stops
 * N parallel guesses from all reading "9 failures" and all getting through: each guess takes a
 * slot atomically, the slot that reaches maxFailures sets the lock, and later ones find the row
 * locked. A success calls clearAttempts, so the count is of consecutive failures.
 */
export async function reserveAttempt(
  db: Kysely<Database>,
  key: string,
  now: Date,
  maxFailures: number,
  lockSeconds: number,
): Promise<AttemptReservation> {
  const lockUntil = new Date(now.getTime() + lockSeconds * 1000);
  const reserved = await sql<{ failures: number }>`
    insert into attempt_counters as c (key, failures, locked_until, updated_at)
    values (${key}, 1, ${maxFailures <= 1 ? lockUntil : null}, ${now})
    on conflict (key) do update set
      failures = case when c.locked_until <= ${now} then 1 else c.failures + 1 end,
      locked_until = case
        when (case when c.locked_until <= ${now} then 1 else c.failures + 1 end) >= ${maxFailures}
        then ${lockUntil}::timestamptz
        else null
      end,
      updated_at = ${now}
    where c.locked_until is null or c.locked_until <= ${now}
    returning failures`.execute(db);
  const row = reserved.rows[0];
  if (row) return { allowed: true, failures: row.failures };

  const locked = await db
    .selectFrom('attempt_counters')
    .select('locked_until')
    .where('key', '=', key)
    .executeTakeFirst();
  const lockedUntil = locked?.locked_until ?? lockUntil;
  // `now` was read before this request waited for the row: a parallel request that read the clock
  // later may have set the lock, so the time left is capped at the lock's length.
  const retryAfterSeconds = Math.min(
    lockSeconds,
    Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000)),
  );
  return { allowed: false, retryAfterSeconds };
}

export async function clearAttempts(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('attempt_counters').where('key', '=', key).execute();
}
