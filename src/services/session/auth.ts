import { authenticate, type Authentication } from '../../core/authentication-facts.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import {
  PASSWORD_LOCK_SECONDS,
  PASSWORD_MAX_FAILURES,
  SESSION_TOKEN_BYTES,
} from '../../core/limits.ts';
import { isSessionAlive, shouldTouchSession } from '../../core/session-rules.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { emailKey, normalizePassword } from '../../core/validation.ts';
import { clearAttempts, reserveAttempt } from '../../store/attempt-counters.ts';
import { appendAuditEvent, appendLoginFailure } from '../../store/audit.ts';
import type { Kysely } from 'kysely';
import {
  offeredMethods,
  statusAfterPassword,
  type SessionStatus,
  type VerificationMethod,
} from '../../core/mfa-policy.ts';
import type { Database, Org, Session, User } from '../../store/schema.ts';
import { orgMfaOf, userMfaOf } from '../mfa/state.ts';
import {
  deleteSession,
  findSessionContext,
  insertSession,
  lockSessionFacts,
  replaceSessionToken,
  touchSession,
  updateSessionFacts,
  type SessionContext,
} from '../../store/sessions.ts';
import { findUserForLogin, updatePasswordHash } from '../../store/users.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';

export type LoginInput = { org: string; email: string; password: string };

export type SignedIn = { token: string; session: Session; user: User; org: Org };
export type PasswordStep = SignedIn & { methods: VerificationMethod[] };

export type RateLimited = Failure<'rate_limited'> & { retryAfterSeconds: number };

type LoginFailure = Failure<'invalid_credentials' | 'no_usable_method'> | RateLimited;

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
): Promise<Result<PasswordStep> | LoginFailure> {
  const now = deps.clock.now();
  const orgSlug = input.org.trim().toLowerCase();
  const key = emailKey(input.email);
  const password = normalizePassword(input.password);
  const counterKey = passwordCounterKey(orgSlug, key);

  const reservation = await reserveAttempt(
    deps.db,
    counterKey,
    now,
    PASSWORD_MAX_FAILURES,
    PASSWORD_LOCK_SECONDS,
  );
  if (!reservation.allowed) {
    return { ok: false, error: 'rate_limited', retryAfterSeconds: reservation.retryAfterSeconds };
  }

  // An unknown account and an SSO account (no password) cost one dummy verification, exactly
  // like a wrong password; all three record the failure with the same statement and answer alike.
  const found = await findUserForLogin(deps.db, orgSlug, key);
  const passwordHash = found?.user.password_hash ?? null;
  if (passwordHash === null) await deps.passwords.verifyDummy(password);
  const passwordOk = passwordHash !== null && (await deps.passwords.verify(passwordHash, password));
  if (!found || passwordHash === null || !passwordOk) {
    const locked = reservation.failures >= PASSWORD_MAX_FAILURES;
    await appendLoginFailure(deps.db, {
      orgSlug,
      emailKey: key,
      consecutiveFailures: reservation.failures,
      lockSeconds: locked ? PASSWORD_LOCK_SECONDS : null,
      ...origin,
      at: now,
    });
    return fail('invalid_credentials');
  }
  const { user, org } = found;
  await clearAttempts(deps.db, counterKey);
  if (deps.passwords.needsRehash(passwordHash)) {
    await updatePasswordHash(deps.db, user.id, await deps.passwords.hash(password));
  }
  const userMfa = await userMfaOf(deps.db, user);
  const status = statusAfterPassword(orgMfaOf(org), userMfa);
  if (status === null) {
    await appendAuditEvent(deps.db, {
      type: 'login.refused',
      orgId: org.id,
      targetUserId: user.id,
      ...origin,
      details: { reason: 'no_usable_method' },
      at: now,
    });
    return fail('no_usable_method');
  }
  const signedIn = await startSession(
    deps,
    { user, org, status, aal: 1, authentication: { method: 'password' } },
    origin,
  );
  await appendAuditEvent(deps.db, {
    type: 'login.succeeded',
    orgId: org.id,
    actorUserId: user.id,
    targetUserId: user.id,
    ...origin,
    details: { status: signedIn.session.status },
    at: now,
  });
  const methods = status === 'mfa_required' ? offeredMethods(orgMfaOf(org), userMfa) : [];
  return ok({ ...signedIn, methods });
}

/** The per-account failure counter, keyed by what was typed so that unknown accounts lock too. */
export function passwordCounterKey(orgSlug: string, email: string): string {
  return `password:${hashToken(`${orgSlug.trim().toLowerCase()}\n${emailKey(email)}`)}`;
}

/**
 * A brand-new token for every sign-in and every change of the session's state: a cookie planted
 * before the password, or stolen before the second factor, is never promoted. The session starts
 * with the facts of the authentication that signed the user in.
 */
export async function startSession(
  deps: ServiceDeps,
  start: {
    user: User;
    org: Org;
    status: SessionStatus;
    aal: number;
    authentication: Authentication;
  },
  origin: RequestOrigin,
): Promise<SignedIn> {
  const { user, org } = start;
  const token = generateToken(deps.randomBytes, SESSION_TOKEN_BYTES);
  const now = deps.clock.now();
  const session = await insertSession(deps.db, {
    tokenHash: hashToken(token),
    user,
    org,
    status: start.status,
    aal: start.aal,
    now,
    ip: origin.ip,
    userAgent: origin.userAgent,
    facts: authenticate(null, start.authentication, now),
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

/**
 * Thrown by rotateSession when the session it should carry on has ended meanwhile (a logout or an
 * invalidation racing the request). It is thrown, not returned, because it must undo the whole
 * transaction the rotation runs in (the code spent, the password changed, the factor enrolled):
 * the request did not happen for a session that no longer exists. The error handler answers it as
 * any ended session: 401 unauthenticated.
 */
export class SessionEnded extends Error {
  constructor() {
    super('the session ended before it could be rotated');
    this.name = 'SessionEnded';
  }
}

/**
 * A factor proven in a live session (the second factor at sign-in, an enrollment that completes
 * it, a step-up) is a fresh authentication: the session's auth_time, amr and acr take it in. Run
 * it in the transaction that spends the factor, so that both commit or neither. A session ended
 * meanwhile has no facts to update (rotateSession then fails the request).
 */
export async function recordAuthentication(
  deps: ServiceDeps,
  db: Kysely<Database>,
  tokenHash: string,
  authentication: Authentication,
): Promise<void> {
  const previous = await lockSessionFacts(db, tokenHash);
  if (!previous) return;
  await updateSessionFacts(db, tokenHash, authenticate(previous, authentication, deps.clock.now()));
}

/**
 * Gives the session a new token and the given state, e.g. once the second factor is proven, in
 * the caller's transaction; its authentication facts stay. A session that has ended meanwhile is
 * never brought back: SessionEnded is thrown and the transaction rolls back.
 */
export async function rotateSession(
  deps: ServiceDeps,
  db: Kysely<Database>,
  context: SessionContext,
  next: { status: SessionStatus; aal: number },
  origin: RequestOrigin,
): Promise<SignedIn> {
  const { user, org } = context;
  const token = generateToken(deps.randomBytes, SESSION_TOKEN_BYTES);
  const replaced = await replaceSessionToken(db, context.session.token_hash, {
    tokenHash: hashToken(token),
    user,
    org,
    ...next,
    now: deps.clock.now(),
    ip: origin.ip,
    userAgent: origin.userAgent,
  });
  if (!replaced) throw new SessionEnded();
  return { token, session: replaced, user, org };
}
