import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { TRANSACTION_RETRIES, TRANSACTION_RETRY_BASE_MS } from '../core/limits.ts';
import type { Database } from './schema.ts';

/** SQLSTATEs after which a transaction can simply run again: serialization failure, deadlock. */
const TRANSIENT_CONFLICTS = new Set(['40001', '40P01']);

export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CONFLICTS.has(code);
}

/** What one run of a transaction has done besides its statements. */
type Attempt = {
  lockedUsers: ReadonlySet<string>;
  afterCommit: (() => void)[];
  retryable: boolean;
};

/** Keyed by the transaction handle: an entry lives as long as that one run of the transaction. */
const attempts = new WeakMap<Kysely<Database>, Attempt>();

/**
 * Runs `work` in a transaction whose first statement locks these users' rows, in id order. Every
 * step-up and second-factor check runs in one (checkStepUp and verifyFactor assert it), so two
 * transactions of one user queue on the user's row instead of each holding a row the other waits
 * for (a step-up locked the attempt counter and then the user, a disable the user and then the
 * counter: a deadlock). Several users (an admin acting on a member) are locked in one order for
 * all, so that two admins acting on each other cannot deadlock either.
 *
 * A deadlock or serialization failure that still happens rolls the run back and runs `work` again,
 * TRANSACTION_RETRIES times at most after a short random wait, unless the run called
 * markIrreversible. Actions given to afterCommit run once, after the run that committed.
 */
export async function userTransaction<T>(
  db: Kysely<Database>,
  /** null stands for no user: an operator's action from the command line. */
  userIds: readonly (string | null)[],
  work: (tx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const ids = [...new Set(userIds.filter((id) => id !== null))];
  for (let retry = 0; ; retry += 1) {
    const attempt: Attempt = { lockedUsers: new Set(ids), afterCommit: [], retryable: true };
    try {
      const result = await db.transaction().execute(async (tx) => {
        attempts.set(tx, attempt);
        if (ids.length > 0) {
          // NO KEY UPDATE is what an UPDATE of the row takes: it queues the user's other writers
          // yet lets rows that merely reference the user (a sign-in's session) be inserted.
          await tx
            .selectFrom('users')
            .select('id')
            .where('id', 'in', ids)
            .orderBy('id')
            .forNoKeyUpdate()
            .execute();
        }
        return work(tx);
      });
      for (const action of attempt.afterCommit) action();
      return result;
    } catch (error) {
      if (!isTransientConflict(error) || !attempt.retryable || retry >= TRANSACTION_RETRIES) {
        throw error;
      }
      await sleep(Math.random() * TRANSACTION_RETRY_BASE_MS * 2 ** retry);
    }
  }
}

/**
 * Runs `action` once the transaction commits, and never if it rolls back: a notification about a
 * change must not go out for a run that is undone, nor twice for a run that is retried.
 */
export function afterCommit(tx: Kysely<Database>, action: () => void): void {
  attemptOf(tx).afterCommit.push(action);
}

/** Something outside the database (an email) happened in this run: a conflict now fails it. */
export function markIrreversible(tx: Kysely<Database>): void {
  attemptOf(tx).retryable = false;
}

/** Code that writes a user's rows checks that its transaction took the user's row lock first. */
export function assertUserLocked(tx: Kysely<Database>, userId: string): void {
  if (!attemptOf(tx).lockedUsers.has(userId)) {
    throw new TypeError('the transaction must lock the user first (userTransaction)');
  }
}

function attemptOf(tx: Kysely<Database>): Attempt {
  const attempt = attempts.get(tx);
  if (!attempt) throw new TypeError('not a transaction opened by userTransaction');
  return attempt;
}
