import { sql, type Kysely } from 'kysely';
import type { AuditEventType } from '../core/audit-events.ts';
import type { Cursor } from '../core/cursor.ts';
import type { Database } from './schema.ts';

export type AuditEntry = {
  type: AuditEventType;
  orgId: string | null;
  actorUserId?: string | null;
  targetUserId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  details?: Record<string, unknown>;
  at: Date;
};

/** Append-only: the store offers no update or delete of audit events. */
export async function appendAuditEvent(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      type: entry.type,
      org_id: entry.orgId,
      actor_user_id: entry.actorUserId ?? null,
      target_user_id: entry.targetUserId ?? null,
      ip: entry.ip ?? null,
      user_agent: entry.userAgent ?? null,
      details: JSON.stringify(entry.details ?? {}),
      created_at: entry.at,
    })
    .execute();
}

/**
 * A failed sign-in in an existing org, recorded whether or not the account exists (an unknown one
 * has no target): the same row written on every path, so that the time of the answer does not
 * tell an existing account from an unknown one. Nothing is written for an unknown org.
 */
export async function appendLoginFailure(
  db: Kysely<Database>,
  failure: {
    orgSlug: string;
    emailKey: string;
    consecutiveFailures: number;
    lockSeconds: number | null;
    ip: string | null;
    userAgent: string | null;
    at: Date;
  },
): Promise<void> {
  const events = [
    sql`('login.failed', jsonb_build_object('consecutive_failures', ${failure.consecutiveFailures}::int))`,
  ];
  if (failure.lockSeconds !== null) {
    events.push(
      sql`('login.locked', jsonb_build_object('lock_seconds', ${failure.lockSeconds}::int))`,
    );
  }
  await sql`
    insert into audit_events (type, org_id, target_user_id, ip, user_agent, details, created_at)
    select e.type, o.id, u.id, ${failure.ip}, ${failure.userAgent},
      e.details || jsonb_build_object('reason', case
        when u.id is null then 'unknown_account'
        when u.password_hash is null then 'sso_account'
        else 'wrong_password' end),
      ${failure.at}
    from orgs o
    left join users u on u.org_id = o.id and u.email_key = ${failure.emailKey}
    cross join (values ${sql.join(events)}) as e(type, details)
    where o.slug = ${failure.orgSlug}`.execute(db);
}

export type ListedAuditEvent = {
  id: string;
  type: string;
  actor: { id: string; email: string | null } | null;
  target: { id: string; email: string | null } | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: Date;
};

/** Newest first, keyset-paginated on (created_at, id) descending, actors' emails joined in. */
export async function listAuditEvents(
  db: Kysely<Database>,
  orgId: string,
  options: { before: Cursor | null; limit: number; type?: string; userId?: string },
): Promise<ListedAuditEvent[]> {
  let query = db
    .selectFrom('audit_events as e')
    .leftJoin('users as actor', 'actor.id', 'e.actor_user_id')
    .leftJoin('users as target', 'target.id', 'e.target_user_id')
    .select([
      'e.id',
      'e.type',
      'e.actor_user_id',
      'e.target_user_id',
      'actor.email as actor_email',
      'target.email as target_email',
      'e.ip',
      'e.user_agent',
      'e.details',
      'e.created_at',
    ])
    .where('e.org_id', '=', orgId);
  if (options.type) query = query.where('e.type', '=', options.type);
  if (options.userId) {
    const userId = options.userId;
    query = query.where((eb) =>
      eb.or([eb('e.actor_user_id', '=', userId), eb('e.target_user_id', '=', userId)]),
    );
  }
  if (options.before) {
    const { at, id } = options.before;
    query = query.where((eb) =>
      eb.or([
        eb('e.created_at', '<', at),
        eb.and([eb('e.created_at', '=', at), eb('e.id', '<', id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('e.created_at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(options.limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    actor: row.actor_user_id ? { id: row.actor_user_id, email: row.actor_email } : null,
    target: row.target_user_id ? { id: row.target_user_id, email: row.target_email } : null,
    ip: row.ip,
    user_agent: row.user_agent,
    details: row.details,
    created_at: row.created_at,
  }));
}
