import { sql, type Kysely } from 'kysely';

/**
 * Factor methods become data instead of schema.
 *
 * The org's allowed methods move from one boolean column per method (and a check constraint
 * naming each) to one `mfa_methods text[]` on the org row. An array on the row, rather than a
 * table of (org, method) rows, because the org row is read with every session (joined in one
 * query), a policy change and a methods change race on that one row with conditional updates, and
 * "a method while MFA is on" stays a check constraint of the row; across two tables it would need
 * a trigger or a lock. Each org keeps the methods it allowed.
 *
 * Factors: a method may let a user hold several factors, each with a label (passkeys), so the
 * one-per-user-method-and-state index applies only to the methods that allow one (TOTP and email,
 * whose setups replace each other). Which methods exist is the code's list
 * (src/core/factor-methods.ts), so the column check naming them goes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('orgs')
    .addColumn('mfa_methods', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{totp,email}'`))
    .execute();
  await sql`update orgs set mfa_methods =
    array_remove(array[
      case when totp_allowed then 'totp' end,
      case when email_allowed then 'email' end], null)`.execute(db);
  await sql`alter table orgs drop constraint orgs_a_method_while_mfa_on`.execute(db);
  await db.schema
    .alterTable('orgs')
    .dropColumn('totp_allowed')
    .dropColumn('email_allowed')
    .execute();
  await db.schema
    .alterTable('orgs')
    .addCheckConstraint(
      'orgs_a_method_while_mfa_on',
      sql`mfa_policy = 'disabled' or cardinality(mfa_methods) > 0`,
    )
    .execute();

  await db.schema.alterTable('factors').addColumn('label', 'text').execute();
  await sql`alter table factors drop constraint factors_type_check`.execute(db);
  await sql`drop index factors_one_per_user_type_state`.execute(db);
  await sql`create unique index factors_one_per_user_type_state on factors (user_id, type, state)
    where type in ('totp', 'email')`.execute(db);
  // A partial index serves only queries that name those types: a user's factors of every type
  // (sign-in, GET /me, step-up) need one of their own.
  await sql`create index factors_by_user_state on factors (user_id, state)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index factors_by_user_state`.execute(db);
  await sql`drop index factors_one_per_user_type_state`.execute(db);
  await sql`create unique index factors_one_per_user_type_state on factors (user_id, type, state)`.execute(
    db,
  );
  await sql`alter table factors add constraint factors_type_check
    check (type in ('totp', 'email'))`.execute(db);
  await db.schema.alterTable('factors').dropColumn('label').execute();

  await sql`alter table orgs drop constraint orgs_a_method_while_mfa_on`.execute(db);
  await db.schema
    .alterTable('orgs')
    .addColumn('totp_allowed', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('email_allowed', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await sql`update orgs set totp_allowed = 'totp' = any(mfa_methods),
    email_allowed = 'email' = any(mfa_methods)`.execute(db);
  await db.schema.alterTable('orgs').dropColumn('mfa_methods').execute();
  await sql`alter table orgs add constraint orgs_a_method_while_mfa_on
    check (mfa_policy = 'disabled' or totp_allowed or email_allowed)`.execute(db);
}
