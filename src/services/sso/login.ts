import * as oidc from 'openid-client';
import type { AuditEventType } from '../../core/audit-events.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { SSO_CLOCK_SKEW_SECONDS, SSO_STATE_SECONDS } from '../../core/limits.ts';
import { decryptSecret, encryptSecret } from '../../core/secret-box.ts';
import { hashToken } from '../../core/tokens.ts';
import { emailKey, parseEmail } from '../../core/validation.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { findOrgById, findOrgBySlug } from '../../store/orgs.ts';
import type { Org, SsoConnection, User } from '../../store/schema.ts';
import { findSessionContext, markSsoReauthentication } from '../../store/sessions.ts';
import { findSsoConnection, insertSsoState, takeSsoState } from '../../store/sso.ts';
import { bindSsoSubject, findUserById, findUserForLogin, insertUser } from '../../store/users.ts';
import { recordAuthentication, startSession, type SignedIn } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { providerConfiguration, reportProviderUnreachable, ssoRedirectUri } from './client.ts';

export type SsoPurpose = 'login' | 'step_up';

type StartFailure = Failure<'sso_not_configured' | 'sso_unavailable'>;

/**
 * Sends the browser to the org's identity provider: authorization code flow with PKCE (S256),
 * a `state` (also set in a cookie by the caller, so that the callback must come back to the same
 * browser) and a `nonce` bound into the ID token. A step-up forces a fresh login at the provider
 * (prompt=login, max_age=0).
 */
export async function startSsoLogin(
  deps: ServiceDeps,
  orgSlug: string,
  request: { purpose: SsoPurpose; sessionTokenHash: string | null },
): Promise<Result<{ url: string; state: string }> | StartFailure> {
  const org = await findOrgBySlug(deps.db, orgSlug.trim().toLowerCase());
  const connection = org ? await findSsoConnection(deps.db, org.id) : undefined;
  if (!org || !connection) return fail('sso_not_configured');
  // From the cache: anonymous callers do not make the server fetch the provider each time, and
  // wait a bounded time when it is slow or down.
  const client = await providerConfiguration(deps, connection);
  if (!client) return fail('sso_unavailable');
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const verifier = oidc.randomPKCECodeVerifier();
  const now = deps.clock.now();
  await insertSsoState(deps.db, {
    state_hash: hashToken(state),
    org_id: org.id,
    purpose: request.purpose,
    session_token_hash: request.sessionTokenHash,
    nonce,
    code_verifier_ciphertext: encryptSecret(
      deps.keys.encryption,
      Buffer.from(verifier),
      `sso-state:${hashToken(state)}`,
      deps.randomBytes,
    ),
    created_at: now,
    expires_at: new Date(now.getTime() + SSO_STATE_SECONDS * 1000),
  });
  const parameters: Record<string, string> = {
    redirect_uri: ssoRedirectUri(deps),
    scope: 'openid email profile',
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  if (request.purpose === 'step_up') Object.assign(parameters, { prompt: 'login', max_age: '0' });
  // Providers put auth_time, acr and amr in the ID token only when asked (OpenID Connect Core
  // 2, 5.5): ask, where the provider supports the claims parameter.
  if (client.serverMetadata().claims_parameter_supported) {
    parameters.claims = JSON.stringify({
      id_token: { auth_time: { essential: true }, acr: null, amr: null },
    });
  }
  return ok({ url: oidc.buildAuthorizationUrl(client, parameters).toString(), state });
}

export type SsoCompleted =
  { purpose: 'login'; signedIn: SignedIn } | { purpose: 'step_up'; user: User };

type CallbackFailure = Failure<
  | 'sso_failed'
  | 'sso_unavailable'
  | 'sso_account_conflict'
  | 'sso_user_unknown'
  | 'sso_domain_not_allowed'
  | 'sso_email_unverified'
  | 'sso_subject_mismatch'
>;

/**
 * The identity provider's redirect back. openid-client checks the state, the code with the PKCE
 * verifier, the ID token's signature, issuer, audience, expiry and nonce; any failure means no
 * session. Then the account: an SSO user of the org signs in; a password user with the same email
 * is refused (linking silently would let whoever controls the provider take over the account); an
 * unknown email is created as an SSO member only if the org allows it and the domain is allowed.
 */
export async function completeSsoLogin(
  deps: ServiceDeps,
  callback: { url: URL; stateFromCookie: string | null },
  origin: RequestOrigin,
): Promise<Result<SsoCompleted> | CallbackFailure> {
  const returnedState = callback.url.searchParams.get('state');
  if (!returnedState || !callback.stateFromCookie || returnedState !== callback.stateFromCookie) {
    return fail('sso_failed');
  }
  const now = deps.clock.now();
  const pending = await takeSsoState(deps.db, hashToken(returnedState), now);
  if (!pending) return fail('sso_failed');
  const org = await findOrgById(deps.db, pending.org_id);
  const connection = org ? await findSsoConnection(deps.db, org.id) : undefined;
  if (!org || !connection) return fail('sso_failed');

  const client = await providerConfiguration(deps, connection);
  if (!client) return fail('sso_unavailable');
  let claims: oidc.IDToken;
  let profile: EmailClaims;
  try {
    const verifier = Buffer.from(
      decryptSecret(
        deps.keys.encryption,
        pending.code_verifier_ciphertext,
        `sso-state:${pending.state_hash}`,
      ),
    ).toString('utf8');
    const tokens = await oidc.authorizationCodeGrant(client, callback.url, {
      pkceCodeVerifier: verifier,
      expectedState: returnedState,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
      ...(pending.purpose === 'step_up' ? { maxAge: 0 } : {}),
    });
    const idToken = tokens.claims();
    if (!idToken) return fail('sso_failed');
    claims = idToken;
    profile = { email: idToken.email, email_verified: idToken.email_verified, name: idToken.name };
    // In the code flow the email scope's claims are the UserInfo endpoint's to give (OpenID
    // Connect Core 5.4); many providers leave them out of the ID token. openid-client checks that
    // the UserInfo answer is about the ID token's subject.
    if (typeof idToken.email !== 'string' && client.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(client, tokens.access_token, idToken.sub);
      profile = { email: info.email, email_verified: info.email_verified, name: info.name };
    }
  } catch (error) {
    if (!isNetworkFailure(error)) return fail('sso_failed');
    reportProviderUnreachable(deps, connection);
    return fail('sso_unavailable');
  }

  const identity = await identityOf(profile, connection);
  if (!identity.ok) return identity;
  const authTime = typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000) : null;
  const sso = {
    authTime,
    acr: typeof claims.acr === 'string' ? claims.acr : null,
    amr: Array.isArray(claims.amr) ? claims.amr.map(String) : null,
  };

  if (pending.purpose === 'step_up') {
    // Fresh means: the provider authenticated the user after this step-up began.
    const earliest = pending.created_at.getTime() - SSO_CLOCK_SKEW_SECONDS * 1000;
    if (!authTime || authTime.getTime() < earliest || !pending.session_token_hash) {
      return fail('sso_failed');
    }
    const user = await findUserForLogin(deps.db, org.slug, emailKey(identity.value));
    if (!user?.user.sso) return fail('sso_user_unknown');
    // The step-up proves the session's own user: someone else signing in at the provider (a
    // colleague at the same keyboard, an attacker with a stolen cookie) proves nothing.
    // Same person means same account and same subject at the provider.
    const session = await findSessionContext(deps.db, pending.session_token_hash);
    if (session?.user.id !== user.user.id || user.user.sso_subject !== claims.sub) {
      await appendAuditEvent(deps.db, {
        type: 'sso.reauthentication_refused',
        orgId: org.id,
        targetUserId: session?.user.id ?? null,
        ...origin,
        details: { reason: 'other_identity', identity_user_id: user.user.id },
        at: now,
      });
      return fail('sso_failed');
    }
    const sessionTokenHash = pending.session_token_hash;
    await deps.db.transaction().execute(async (tx) => {
      await markSsoReauthentication(tx, sessionTokenHash, now);
      await recordAuthentication(deps, tx, sessionTokenHash, {
        method: 'federated',
        idp: { authTime, amr: sso.amr },
      });
    });
    await audit(deps, org, user.user, 'sso.reauthenticated', sso, origin);
    return ok({ purpose: 'step_up', user: user.user });
  }

  const name = typeof profile.name === 'string' ? profile.name : null;
  const account = await accountFor(
    deps,
    org,
    connection,
    { email: identity.value, subject: claims.sub, name },
    now,
  );
  if (!account.ok) {
    await appendAuditEvent(deps.db, {
      type: 'sso.login_refused',
      orgId: org.id,
      ...origin,
      details: { reason: account.error },
      at: now,
    });
    return account;
  }
  const signedIn = await startSession(
    deps,
    {
      user: account.value,
      org,
      status: 'authenticated',
      aal: 1,
      authentication: { method: 'federated', idp: { authTime, amr: sso.amr } },
    },
    origin,
  );
  await audit(deps, org, account.value, 'sso.login_succeeded', sso, origin);
  return ok({ purpose: 'login', signedIn });
}

type EmailClaims = { email?: unknown; email_verified?: unknown; name?: unknown };

async function identityOf(
  claims: EmailClaims,
  connection: SsoConnection,
): Promise<
  Result<string, 'sso_email_invalid' | 'sso_email_unverified' | 'sso_domain_not_allowed'>
> {
  // A claim that is not a bare mailbox (a display name, a second address) never becomes an
  // account: mail to it could go somewhere else.
  const email = typeof claims.email === 'string' ? parseEmail(claims.email) : null;
  if (!email?.ok) return fail('sso_email_invalid');
  // Some providers (Amazon Cognito) send the boolean as a string.
  if (claims.email_verified === false || claims.email_verified === 'false') {
    return fail('sso_email_unverified');
  }
  const domain = email.value.split('@').pop()?.toLowerCase() ?? '';
  const allowed = connection.allowed_domains;
  if (allowed.length > 0 && !allowed.includes(domain)) return fail('sso_domain_not_allowed');
  return ok(email.value);
}

/**
 * The account an SSO identity signs in to. An existing SSO user is bound to the provider's
 * subject at the first sign-in; afterwards the same email with another subject is someone else
 * (providers can reassign an address) and is refused.
 */
async function accountFor(
  deps: ServiceDeps,
  org: Org,
  connection: SsoConnection,
  identity: { email: string; subject: string; name: string | null },
  now: Date,
): Promise<Result<User, 'sso_account_conflict' | 'sso_user_unknown' | 'sso_subject_mismatch'>> {
  const { email, subject } = identity;
  const existing = await findUserForLogin(deps.db, org.slug, emailKey(email));
  if (existing) {
    const user = existing.user;
    if (!user.sso) return fail('sso_account_conflict');
    if (user.sso_subject === null && (await bindSsoSubject(deps.db, user.id, subject))) {
      return ok({ ...user, sso_subject: subject });
    }
    const current = user.sso_subject ?? (await findUserById(deps.db, user.id))?.sso_subject;
    return current === subject ? ok(user) : fail('sso_subject_mismatch');
  }
  if (!connection.create_users) return fail('sso_user_unknown');
  const created = await insertUser(deps.db, {
    org_id: org.id,
    email,
    email_key: emailKey(email),
    name: identity.name?.trim().slice(0, 200) || email.split('@')[0] || email,
    role: 'member',
    password_hash: null,
    sso: true,
    sso_subject: subject,
    created_at: now,
  });
  if (!created) return fail('sso_account_conflict');
  await appendAuditEvent(deps.db, {
    type: 'user.created',
    orgId: org.id,
    targetUserId: created.id,
    details: { role: 'member', sso: true, by: 'sso_first_sign_in' },
    at: now,
  });
  return ok(created);
}

async function audit(
  deps: ServiceDeps,
  org: Org,
  user: User,
  type: AuditEventType,
  sso: { authTime: Date | null; acr: string | null; amr: string[] | null },
  origin: RequestOrigin,
) {
  await appendAuditEvent(deps.db, {
    type,
    orgId: org.id,
    actorUserId: user.id,
    targetUserId: user.id,
    ...origin,
    details: { auth_time: sso.authTime?.toISOString() ?? null, acr: sso.acr, amr: sso.amr },
    at: deps.clock.now(),
  });
}

function isNetworkFailure(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''} ${String((error as { cause?: unknown })?.cause ?? '')}`;
  return /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|AbortError|TimeoutError|ProviderAddressRefused/i.test(
    text,
  );
}

export async function ssoAvailable(deps: ServiceDeps, orgSlug: string): Promise<boolean> {
  const org = await findOrgBySlug(deps.db, orgSlug.trim().toLowerCase());
  return org !== undefined && (await findSsoConnection(deps.db, org.id)) !== undefined;
}
