import { fail, ok, type Failure, type Result } from '../core/errors.ts';
import {
  PASSWORD_LOCK_SECONDS,
  PASSWORD_MAX_FAILURES,
  SESSION_TOKEN_BYTES,
} from '../core/limits.ts';
import { isSessionAlive, shouldTouchSession } from '../core/session-rules.ts';
import { generateToken, hashToken } from '../core/tokens.ts';
import { emailKey, normalizePassword } from '../core/validation.ts';
import { clearAttempts, reserveAttempt } from '../store/attempt-counters.ts';
import { appendAuditEvent } from '../store/audit.ts';
import type { Org, Session, User } from '../store/schema.ts';
import {
  deleteSession,
  findSessionContext,
  insertSession,
  touchSession,
  type SessionContext,
} from '../store/sessions.ts';
import { findUserForLogin, updatePasswordHash } from '../store/users.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';

export type LoginInput = { org: string; email: string; password: string };

export type SignedIn = { token: string; session: Session; user: User; org: Org };

export type RateLimited = Failure<'rate_limited'> & { retryAfterSeconds: number };

type LoginFailure = Failure<'invalid_credentials' | 'sso_required'> | RateLimited;

/**
 * The password step. Unknown org, unknown user and wrong password fail alike: same error, and a
 * dummy hash verification so that the time does not tell them apart either. The failure counter is
 * keyed by the org and email typed, not by the user row, so that an unknown account locks exactly
 * like a real one and the lock reveals nothing.
 */
export async function login(
  deps: ServiceDeps,
  input: LoginInput,
  origin: RequestOrigin,
): Promise<Result<SignedIn> | LoginFailure> {
  const now = deps.clock.now();
  const orgSlug = input.org.trim().toLowerCase();
  const key = emailKey(input.email);
  const password = normalizePassword(input.password);
  const counterKey = `password:${hashToken(`${orgSlug}\n${key}`)}`;

  const reservation = await reserveAttempt(
    deps.db,
    counterKey,
    now,
    PASSWORD_MAX_FAILURES,
    PASSWORD_LOCK_SECONDS,
  );
  if (!reservation.allowed) {
    const retryAfterSeconds = Math.max(
      1,
      Math.ceil((reservation.lockedUntil.getTime() - now.getTime()) / 1000),
    );
    return { ok: false, error: 'rate_limited', retryAfterSeconds };
  }

  const found = await findUserForLogin(deps.db, orgSlug, key);
  if (!found) {
    await deps.passwords.verifyDummy(password);
    return fail('invalid_credentials');
  }
  const { user, org } = found;
  if (user.password_hash === null) {
    await clearAttempts(deps.db, counterKey);
    return fail('sso_required');
  }
  if (!(await deps.passwords.verify(user.password_hash, password))) {
    await appendAuditEvent(deps.db, {
      type: 'login.failed',
      orgId: org.id,
      targetUserId: user.id,
      ...origin,
      details: { reason: 'wrong_password', consecutive_failures: reservation.failures },
      at: now,
    });
    if (reservation.failures >= PASSWORD_MAX_FAILURES) {
      await appendAuditEvent(deps.db, {
        type: 'login.locked',
        orgId: org.id,
        targetUserId: user.id,
        ...origin,
        details: { lock_seconds: PASSWORD_LOCK_SECONDS },
        at: now,
      });
    }
    return fail('invalid_credentials');
  }

  await clearAttempts(deps.db, counterKey);
  if (deps.passwords.needsRehash(user.password_hash)) {
    await updatePasswordHash(deps.db, user.id, await deps.passwords.hash(password));
  }
  const signedIn = await startSession(deps, user, org, origin);
  await appendAuditEvent(deps.db, {
    type: 'login.succeeded',
    orgId: org.id,
    actorUserId: user.id,
    targetUserId: user.id,
    ...origin,
    details: { status: signedIn.session.status },
    at: now,
  });
  return ok(signedIn);
}

/** A brand-new token for every sign-in: a cookie planted before it is never promoted. */
export async function startSession(
  deps: ServiceDeps,
  user: User,
  org: Org,
  origin: RequestOrigin,
): Promise<SignedIn> {
  const token = generateToken(deps.randomBytes, SESSION_TOKEN_BYTES);
  const session = await insertSession(deps.db, {
    tokenHash: hashToken(token),
    user,
    org,
    status: 'authenticated',
    aal: 1,
    now: deps.clock.now(),
    ip: origin.ip,
    userAgent: origin.userAgent,
  });
  return { token, session, user, org };
}

/** Expected outcomes (unknown, expired, invalidated) are undefined, never exceptions. */
export async function resolveSession(
  deps: ServiceDeps,
  token: string,
): Promise<SessionContext | undefined> {
  const tokenHash = hashToken(token);
  const context = await findSessionContext(deps.db, tokenHash);
  if (!context) return undefined;
  const now = deps.clock.now();
  const { session, user, org } = context;
  const alive = isSessionAlive(
    {
      status: session.status,
      createdAt: session.created_at,
      lastSeenAt: session.last_seen_at,
      orgEpoch: session.org_epoch,
      currentOrgEpoch: org.session_epoch,
      userEpoch: session.user_epoch,
      currentUserEpoch: user.session_epoch,
    },
    now,
    deps.sessionLifetimes,
  );
  if (!alive) {
    await deleteSession(deps.db, tokenHash);
    return undefined;
  }
  if (shouldTouchSession(session.last_seen_at, now)) {
    await touchSession(deps.db, tokenHash, now);
  }
  return context;
}

export async function logout(
  deps: ServiceDeps,
  context: SessionContext,
  origin: RequestOrigin,
): Promise<void> {
  await deleteSession(deps.db, context.session.token_hash);
  await appendAuditEvent(deps.db, {
    type: 'logout',
    orgId: context.org.id,
    actorUserId: context.user.id,
    targetUserId: context.user.id,
    ...origin,
    at: deps.clock.now(),
  });
}

export async function endSessionByToken(deps: ServiceDeps, token: string): Promise<void> {
  await deleteSession(deps.db, hashToken(token));
}
