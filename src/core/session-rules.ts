import {
  PRE_MFA_SESSION_SECONDS,
  SESSION_ABSOLUTE_SECONDS,
  SESSION_IDLE_SECONDS,
  SESSION_TOUCH_INTERVAL_SECONDS,
} from './limits.ts';
import type { SessionStatus } from './mfa-policy.ts';

export type SessionTimes = {
  status: SessionStatus;
  createdAt: Date;
  lastSeenAt: Date;
  /** The org's and user's invalidation epochs when the session was made, and now. */
  orgEpoch: number;
  currentOrgEpoch: number;
  userEpoch: number;
  currentUserEpoch: number;
};

export type SessionLifetimes = { idleSeconds: number; absoluteSeconds: number };

export const defaultSessionLifetimes: SessionLifetimes = {
  idleSeconds: SESSION_IDLE_SECONDS,
  absoluteSeconds: SESSION_ABSOLUTE_SECONDS,
};

/**
 * Invalidation compares epochs instead of timestamps: bumping an org's or a user's epoch is one
 * row update that ends every older session at once, exactly, whatever the clocks of the instances.
 */
export function isSessionAlive(
  session: SessionTimes,
  now: Date,
  lifetimes: SessionLifetimes = defaultSessionLifetimes,
): boolean {
  if (session.orgEpoch !== session.currentOrgEpoch) return false;
  if (session.userEpoch !== session.currentUserEpoch) return false;
  const ageMs = now.getTime() - session.createdAt.getTime();
  const idleMs = now.getTime() - session.lastSeenAt.getTime();
  const absoluteSeconds =
    session.status === 'authenticated' ? lifetimes.absoluteSeconds : PRE_MFA_SESSION_SECONDS;
  if (ageMs >= absoluteSeconds * 1000) return false;
  return idleMs < lifetimes.idleSeconds * 1000;
}

export function shouldTouchSession(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() >= SESSION_TOUCH_INTERVAL_SECONDS * 1000;
}
