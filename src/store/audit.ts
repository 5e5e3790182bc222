import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type AuditEntry = {
  type: string;
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
