import { sql, type Kysely } from 'kysely';
import type { MfaMethod } from '../core/mfa-policy.ts';
import type { Database, Factor } from './schema.ts';

export type UserFactorSummary = {
  activeMethods: MfaMethod[];
  recoveryCodesRemaining: number;
};

/** The user's active factors (secrets included) and unused recovery codes, in one round trip. */
export async function findActiveFactors(
  db: Kysely<Database>,
  userId: string,
): Promise<{ factors: Factor[]; recoveryCodesRemaining: number }> {
  // The one-row count on the left keeps the count when the user has no factor at all.
  const rows = await db
    .selectFrom(
      db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('remaining'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .as('codes'),
    )
    .leftJoin('factors', (join) =>
      join.on('factors.user_id', '=', userId).on('factors.state', '=', 'active'),
    )
    .selectAll('factors')
    .select('codes.remaining')
    .orderBy('factors.type')
    .execute();
  const factors = rows.filter((row) => row.id !== null) as unknown as Factor[];
  return { factors, recoveryCodesRemaining: Number(rows[0]?.remaining ?? 0) };
}

/** The user's active methods and unused recovery codes, in one round trip. */
export async function summarizeFactors(
  db: Kysely<Database>,
  userId: string,
): Promise<UserFactorSummary> {
  const result = await sql<{ methods: MfaMethod[] | null; remaining: number }>`
    select
      (select array_agg(distinct type order by type) from factors
        where user_id = ${userId} and state = 'active') as methods,
      (select count(*)::int from recovery_codes
        where user_id = ${userId} and used_at is null) as remaining`.execute(db);
  const row = result.rows[0];
  return { activeMethods: row?.methods ?? [], recoveryCodesRemaining: row?.remaining ?? 0 };
}

export async function findFactor(
  db: Kysely<Database>,
  userId: string,
  type: MfaMethod,
  state: Factor['state'],
): Promise<Factor | undefined> {
  return db
    .selectFrom('factors')
    .selectAll()
    .where('user_id', '=', userId)
    .where('type', '=', type)
    .where('state', '=', state)
    .executeTakeFirst();
}

/** A new setup voids the earlier pending one of the same method. */
export async function replacePendingFactor(
  db: Kysely<Database>,
  factor: {
    userId: string;
    orgId: string;
    type: MfaMethod;
    secretCiphertext: string | null;
    now: Date;
  },
): Promise<Factor> {
  await db
    .deleteFrom('factors')
    .where('user_id', '=', factor.userId)
    .where('type', '=', factor.type)
    .where('state', '=', 'pending')
    .execute();
  return db
    .insertInto('factors')
    .values({
      user_id: factor.userId,
      org_id: factor.orgId,
      type: factor.type,
      state: 'pending',
      secret_ciphertext: factor.secretCiphertext,
      created_at: factor.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Turns the pending factor active, replacing an active one of the same method. Conditional on the
 * factor still being pending, so that two confirmations racing each other activate it once.
 */
export async function activatePendingFactor(
  db: Kysely<Database>,
  factor: Factor,
  now: Date,
  lastUsedStep: bigint | null,
): Promise<boolean> {
  // Two confirmations of one setup (a double submit) race here. Without this row lock, the second
  // could read the factor as pending, then, once the first commits, delete it as "the active one
  // to replace" and fail its own update: the first answered 200 and its factor would be gone. With
  // it, the second waits for the first and finds the factor no longer pending.
  const stillPending = await db
    .selectFrom('factors')
    .select('id')
    .where('id', '=', factor.id)
    .where('state', '=', 'pending')
    .forUpdate()
    .executeTakeFirst();
  if (!stillPending) return false;
  await db
    .deleteFrom('factors')
    .where('user_id', '=', factor.user_id)
    .where('type', '=', factor.type)
    .where('state', '=', 'active')
    .execute();
  const activated = await db
    .updateTable('factors')
    .set({
      state: 'active',
      activated_at: now,
      last_used_at: now,
      last_used_step: lastUsedStep === null ? null : String(lastUsedStep),
    })
    .where('id', '=', factor.id)
    .where('state', '=', 'pending')
    .returning('id')
    .executeTakeFirst();
  await refreshEnrollment(db, factor.user_id);
  return activated !== undefined;
}

/**
 * Records a TOTP step as used only if it is newer than the last one used. Two requests carrying
 * the same code, on one instance or two, race on this single conditional UPDATE: exactly one gets
 * the row back, the other is a replay.
 */
export async function consumeTotpStep(
  db: Kysely<Database>,
  factorId: string,
  step: bigint,
  now: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('factors')
    .set({ last_used_step: String(step), last_used_at: now })
    .where('id', '=', factorId)
    .where('state', '=', 'active')
    .where((eb) =>
      eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', String(step))]),
    )
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Every factor of the user, pending or active, and every recovery code. */
export async function deleteAllFactors(
  db: Kysely<Database>,
  userId: string,
): Promise<{ factors: number; recovery_codes: number }> {
  const factors = await db.deleteFrom('factors').where('user_id', '=', userId).executeTakeFirst();
  const codes = await db
    .deleteFrom('recovery_codes')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  await refreshEnrollment(db, userId);
  return {
    factors: Number(factors.numDeletedRows),
    recovery_codes: Number(codes.numDeletedRows),
  };
}

/** Recomputes users.mfa_enrolled; call it in the transaction of every write to a user's factors. */
export async function refreshEnrollment(db: Kysely<Database>, userId: string): Promise<void> {
  await sql`update users set mfa_enrolled = exists (
    select 1 from factors where factors.user_id = ${userId} and factors.state = 'active')
    where id = ${userId}`.execute(db);
}

/** The email method has no secret: proving the inbox makes it active at once, replacing any. */
export async function activateEmailFactor(
  db: Kysely<Database>,
  factor: { userId: string; orgId: string; now: Date },
): Promise<void> {
  await db
    .deleteFrom('factors')
    .where('user_id', '=', factor.userId)
    .where('type', '=', 'email')
    .execute();
  await db
    .insertInto('factors')
    .values({
      user_id: factor.userId,
      org_id: factor.orgId,
      type: 'email',
      state: 'active',
      secret_ciphertext: null,
      created_at: factor.now,
      activated_at: factor.now,
      last_used_at: factor.now,
    })
    .execute();
  await refreshEnrollment(db, factor.userId);
}

/** Removes one active method; recovery codes go too when it was the last one (they verify nothing). */
export async function deleteActiveFactor(
  db: Kysely<Database>,
  userId: string,
  type: MfaMethod,
): Promise<boolean> {
  const deleted = await db
    .deleteFrom('factors')
    .where('user_id', '=', userId)
    .where('type', '=', type)
    .where('state', '=', 'active')
    .executeTakeFirst();
  await refreshEnrollment(db, userId);
  const remaining = await db
    .selectFrom('factors')
    .select('id')
    .where('user_id', '=', userId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  if (!remaining) await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  return Number(deleted.numDeletedRows) > 0;
}
