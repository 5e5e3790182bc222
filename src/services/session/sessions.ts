import { appendAuditEvent } from '../../store/audit.ts';
import { bumpOrgSessionEpoch } from '../../store/orgs.ts';
import { bumpUserSessionEpoch } from '../../store/users.ts';
import type { ServiceDeps } from '../deps.ts';

export type Invalidation = { orgId: string; actorUserId: string | null; reason: string };

/** Ends every session of the org in one row update; sessions made afterwards are unaffected. */
export async function invalidateOrgSessions(deps: ServiceDeps, input: Invalidation) {
  await deps.db.transaction().execute(async (tx) => {
    await bumpOrgSessionEpoch(tx, input.orgId);
    await appendAuditEvent(tx, {
      type: 'sessions.invalidated',
      orgId: input.orgId,
      actorUserId: input.actorUserId,
      details: { scope: 'org', reason: input.reason },
      at: deps.clock.now(),
    });
  });
}

export async function invalidateUserSessions(
  deps: ServiceDeps,
  input: Invalidation & { userId: string },
) {
  await deps.db.transaction().execute(async (tx) => {
    await bumpUserSessionEpoch(tx, input.userId);
    await appendAuditEvent(tx, {
      type: 'sessions.invalidated',
      orgId: input.orgId,
      actorUserId: input.actorUserId,
      targetUserId: input.userId,
      details: { scope: 'user', reason: input.reason },
      at: deps.clock.now(),
    });
  });
}
