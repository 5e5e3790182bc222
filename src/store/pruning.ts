import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Rows deleted per statement: short transactions that never hold many locks at once. */
const BATCH = 1000;
/** Batches per table per run: a backlog is worked off over several runs, not in one long burst. */
const MAX_BATCHES = 50;

export type PruneCutoffs = {
  /** Sessions not seen since then are dead (idle limit); an older absolute limit implies this too. */
  sessionsSeenBefore: Date;
  /** Challenges, reset links and SSO states that expired before then. */
  expiredBefore: Date;
  /** Unlocked failure counters not touched since then. */
  countersUpdatedBefore: Date;
  now: Date;
};

/**
 * Deletes rows that can no longer be used. Every instance may run this at the same time: the
 * deletes are idempotent, and `skip locked` keeps two runs from waiting on each other.
 */
export async function pruneExpiredRows(
  db: Kysely<Database>,
  cutoffs: PruneCutoffs,
): Promise<Record<string, number>> {
  return {
    sessions: await inBatches(
      db,
      sql`select token_hash as key from sessions where last_seen_at < ${cutoffs.sessionsSeenBefore}`,
      'sessions',
      'token_hash',
    ),
    email_challenges: await inBatches(
      db,
      sql`select id as key from email_challenges where expires_at < ${cutoffs.expiredBefore}`,
      'email_challenges',
      'id',
    ),
    password_reset_tokens: await inBatches(
      db,
      sql`select token_hash as key from password_reset_tokens where expires_at < ${cutoffs.expiredBefore}`,
      'password_reset_tokens',
      'token_hash',
    ),
    sso_states: await inBatches(
      db,
      sql`select state_hash as key from sso_states where expires_at < ${cutoffs.expiredBefore}`,
      'sso_states',
      'state_hash',
    ),
    // The provider's expired objects serve nothing: oidc-provider refuses them even if found.
    oidc_payloads: await inBatches(
      db,
      sql`select ctid as key from oidc_payloads where expires_at <= ${cutoffs.now}`,
      'oidc_payloads',
      'ctid',
    ),
    attempt_counters: await inBatches(
      db,
      sql`select key from attempt_counters where updated_at < ${cutoffs.countersUpdatedBefore}
        and (locked_until is null or locked_until <= ${cutoffs.now})`,
      'attempt_counters',
      'key',
    ),
  };
}

async function inBatches(
  db: Kysely<Database>,
  expired: ReturnType<typeof sql>,
  table: string,
  key: string,
): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
    const result = await sql`delete from ${sql.table(table)} where ${sql.ref(key)} in (
      ${expired} limit ${BATCH} for update skip locked)`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0);
    total += deleted;
    if (deleted < BATCH) break;
  }
  return total;
}
