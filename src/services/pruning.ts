import { EXPIRED_ROW_RETENTION_SECONDS, PRE_MFA_SESSION_SECONDS } from '../core/limits.ts';
import { pruneExpiredRows } from '../store/pruning.ts';
import type { ServiceDeps } from './deps.ts';

/** Deletes what can no longer be used: dead sessions, old codes, links, SSO states and counters. */
export async function pruneExpired(
  deps: Pick<ServiceDeps, 'db' | 'clock' | 'sessionLifetimes'>,
): Promise<Record<string, number>> {
  const now = deps.clock.now();
  const idleSeconds = Math.max(deps.sessionLifetimes.idleSeconds, PRE_MFA_SESSION_SECONDS);
  const retained = secondsBefore(now, EXPIRED_ROW_RETENTION_SECONDS);
  return pruneExpiredRows(deps.db, {
    sessionsSeenBefore: secondsBefore(now, idleSeconds),
    expiredBefore: retained,
    countersUpdatedBefore: retained,
    now,
  });
}

function secondsBefore(now: Date, seconds: number): Date {
  return new Date(now.getTime() - seconds * 1000);
}
