import type { Kysely } from 'kysely';
import type { AuthenticationFacts } from '../core/authentication-facts.ts';
import type { Database, Org, Session, SessionStatus, User } from './schema.ts';
import { orgColumns, splitOrg } from './org-columns.ts';

export type SessionContext = { session: Session; user: User; org: Org };

export async function insertSession(
  db: Kysely<Database>,
  session: {
    tokenHash: string;
    user: User;
    org: Org;
    status: SessionStatus;
    aal: number;
    now: Date;
    ip: string | null;
    userAgent: string | null;
    facts: AuthenticationFacts;
  },
): Promise<Session> {
  return db
    .insertInto('sessions')
    .values({
      token_hash: session.tokenHash,
      user_id: session.user.id,
      org_id: session.org.id,
      status: session.status,
      aal: session.aal,
      org_epoch: session.org.session_epoch,
      user_epoch: session.user.session_epoch,
      created_at: session.now,
      last_seen_at: session.now,
      ip: session.ip,
      user_agent: session.userAgent,
      auth_time: session.facts.authTime,
      acr: session.facts.acr,
      amr: JSON.stringify(session.facts.amr),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** One indexed lookup joining the session to its user and org: the hot path of every request. */
export async function findSessionContext(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<SessionContext | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .innerJoin('orgs', 'orgs.id', 'sessions.org_id')
    .select([
      'sessions.token_hash as session__token_hash',
      'sessions.status as session__status',
      'sessions.aal as session__aal',
      'sessions.org_epoch as session__org_epoch',
      'sessions.user_epoch as session__user_epoch',
      'sessions.created_at as session__created_at',
      'sessions.last_seen_at as session__last_seen_at',
      'sessions.ip as session__ip',
      'sessions.user_agent as session__user_agent',
      'sessions.auth_time as session__auth_time',
      'sessions.acr as session__acr',
      'sessions.amr as session__amr',
      'sessions.sso_reauthenticated_at as session__sso_reauthenticated_at',
    ])
    .selectAll('users')
    .select(orgColumns)
    .where('sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const { org, rest } = splitOrg(row);
  const {
    session__token_hash,
    session__status,
    session__aal,
    session__org_epoch,
    session__user_epoch,
    session__created_at,
    session__last_seen_at,
    session__ip,
    session__user_agent,
    session__auth_time,
    session__acr,
    session__amr,
    session__sso_reauthenticated_at,
    ...user
  } = rest;
  const session: Session = {
    token_hash: session__token_hash,
    user_id: user.id,
    org_id: org.id,
    status: session__status,
    aal: session__aal,
    org_epoch: session__org_epoch,
    user_epoch: session__user_epoch,
    created_at: session__created_at,
    last_seen_at: session__last_seen_at,
    ip: session__ip,
    user_agent: session__user_agent,
    auth_time: session__auth_time,
    acr: session__acr,
    amr: session__amr,
    sso_reauthenticated_at: session__sso_reauthenticated_at,
  };
  return { session, user, org };
}

export async function touchSession(
  db: Kysely<Database>,
  tokenHash: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('token_hash', '=', tokenHash)
    .execute();
}

/**
 * Gives a session a new token and state in one statement: the old token stops working in the
 * same instant. The authentication facts stay: the same user, authenticated the same way, goes
 * on. A pending SSO re-authentication is cleared. Undefined when the old session is gone (ended
 * meanwhile).
 */
export async function replaceSessionToken(
  db: Kysely<Database>,
  oldTokenHash: string,
  next: Omit<Parameters<typeof insertSession>[1], 'facts'>,
): Promise<Session | undefined> {
  return db
    .updateTable('sessions')
    .set({
      token_hash: next.tokenHash,
      status: next.status,
      aal: next.aal,
      org_epoch: next.org.session_epoch,
      user_epoch: next.user.session_epoch,
      created_at: next.now,
      last_seen_at: next.now,
      ip: next.ip,
      user_agent: next.userAgent,
      sso_reauthenticated_at: null,
    })
    .where('token_hash', '=', oldTokenHash)
    .where('user_id', '=', next.user.id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * The session's facts, its row locked until the transaction ends: two authentications of one
 * session (a step-up racing another) each add to what the other wrote instead of overwriting it.
 */
export async function lockSessionFacts(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<{ authTime: Date; amr: string[] } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select(['auth_time', 'amr'])
    .where('token_hash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
  return row && { authTime: row.auth_time, amr: row.amr };
}

export async function updateSessionFacts(
  db: Kysely<Database>,
  tokenHash: string,
  facts: AuthenticationFacts,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ auth_time: facts.authTime, acr: facts.acr, amr: JSON.stringify(facts.amr) })
    .where('token_hash', '=', tokenHash)
    .execute();
}

export async function deleteSession(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

/** Marks a fresh re-authentication at the identity provider on this session. */
export async function markSsoReauthentication(
  db: Kysely<Database>,
  tokenHash: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ sso_reauthenticated_at: at })
    .where('token_hash', '=', tokenHash)
    .execute();
}

/**
 * Spends the session's re-authentication if it is recent enough: one conditional UPDATE, so one
 * re-authentication serves exactly one sensitive action.
 */
export async function consumeSsoReauthentication(
  db: Kysely<Database>,
  tokenHash: string,
  notBefore: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('sessions')
    .set({ sso_reauthenticated_at: null })
    .where('token_hash', '=', tokenHash)
    .where('sso_reauthenticated_at', '>=', notBefore)
    .returning('token_hash')
    .executeTakeFirst();
  return row !== undefined;
}
