import { sql, type Kysely } from 'kysely';
import { authenticate } from '../../core/authentication-facts.ts';

/**
 * Every session records how its user authenticated: auth_time, acr and amr, which an OpenID
 * Provider states in its ID tokens. They replace the columns that held what an identity provider
 * said of an SSO sign-in (sso_auth_time, sso_acr, sso_amr); sso_reauthenticated_at stays, as it
 * is a pending step-up, not a fact of the sign-in.
 *
 * Sessions alive at the migration get the facts a sign-in gets today (core/authentication-facts.ts):
 * - a password session: auth_time is its created_at (a rotation, such as the second factor's,
 *   resets it); amr `pwd`, plus the second factor at aal 2, which was a TOTP, an emailed or a
 *   recovery code, all three `otp`;
 * - an SSO session: the provider's auth_time and its amr values, as a new SSO sign-in takes them.
 *   The provider's own acr is not a Portcullis level: it stays in the audit log only.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('auth_time', 'timestamptz')
    .addColumn('acr', 'text')
    .addColumn('amr', 'jsonb')
    .execute();

  const any = new Date(0);
  const password = authenticate(null, { method: 'password' }, any);
  const secondFactor = authenticate(password, { method: 'totp' }, any);
  for (const [facts, aal] of [
    [password, sql`aal < 2`],
    [secondFactor, sql`aal >= 2`],
  ] as const) {
    await sql`update sessions set auth_time = created_at, acr = ${facts.acr},
        amr = ${JSON.stringify(facts.amr)}::jsonb
      where ${aal} and user_id in (select id from users where not sso)`.execute(db);
  }

  const ssoSessions = await db
    .selectFrom('sessions')
    .select(['token_hash', 'created_at', 'sso_auth_time', 'sso_amr'])
    .where('auth_time', 'is', null)
    .execute();
  for (const session of ssoSessions) {
    const facts = authenticate(
      null,
      {
        method: 'federated',
        idp: {
          authTime: session.sso_auth_time,
          amr: Array.isArray(session.sso_amr) ? session.sso_amr : null,
        },
      },
      session.created_at,
    );
    await db
      .updateTable('sessions')
      .set({ auth_time: facts.authTime, acr: facts.acr, amr: JSON.stringify(facts.amr) })
      .where('token_hash', '=', session.token_hash)
      .execute();
  }

  await db.schema
    .alterTable('sessions')
    .alterColumn('auth_time', (c) => c.setNotNull())
    .alterColumn('acr', (c) => c.setNotNull())
    .alterColumn('amr', (c) => c.setNotNull())
    .execute();
  await db.schema
    .alterTable('sessions')
    .dropColumn('sso_auth_time')
    .dropColumn('sso_acr')
    .dropColumn('sso_amr')
    .execute();
}

/** The provider's own acr was not kept: an SSO session goes back with its auth_time and amr. */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('sso_auth_time', 'timestamptz')
    .addColumn('sso_acr', 'text')
    .addColumn('sso_amr', 'jsonb')
    .execute();
  await sql`update sessions set sso_auth_time = auth_time,
      sso_amr = (select coalesce(jsonb_agg(value), '[]'::jsonb)
        from jsonb_array_elements_text(amr) as value where value <> 'fed')
    where user_id in (select id from users where sso)`.execute(db);
  await db.schema
    .alterTable('sessions')
    .dropColumn('auth_time')
    .dropColumn('acr')
    .dropColumn('amr')
    .execute();
}
