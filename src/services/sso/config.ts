import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { encryptSecret } from '../../core/secret-box.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { deleteSsoConnection, findSsoConnection, saveSsoConnection } from '../../store/sso.ts';
import { userTransaction } from '../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { ssoStartPath } from './paths.ts';
import { clientSecretAad, isAcceptableIssuer, probeProvider, ssoRedirectUri } from './client.ts';
import { checkStepUp, type StepUpFailure } from '../mfa/step-up.ts';
import type { VerificationInput } from '../mfa/verification.ts';

/** What an admin sees of the connection: never the client secret. */
export type SsoSettings = {
  issuer: string;
  clientId: string;
  allowedDomains: string[];
  createUsers: boolean;
  redirectUri: string;
  startUrl: string;
};

export type SsoInput = {
  issuer: string;
  clientId: string;
  /** Omitted: keep the stored one. */
  clientSecret?: string;
  allowedDomains: string[];
  createUsers: boolean;
  verification?: VerificationInput;
};

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export async function readSsoSettings(
  deps: ServiceDeps,
  context: SessionContext,
): Promise<SsoSettings | null> {
  const connection = await findSsoConnection(deps.db, context.org.id);
  if (!connection) return null;
  return {
    issuer: connection.issuer,
    clientId: connection.client_id,
    allowedDomains: connection.allowed_domains,
    createUsers: connection.create_users,
    redirectUri: ssoRedirectUri(deps),
    startUrl: ssoStartPath(context.org.slug),
  };
}

/**
 * Saves the org's one connection. Whoever controls it can sign in as the org's SSO users, so an
 * admin with MFA steps up; the client secret is encrypted at rest, bound to the org.
 */
export async function saveSsoSettings(
  deps: ServiceDeps,
  context: SessionContext,
  input: SsoInput,
  origin: RequestOrigin,
): Promise<Result<true> | Failure<'invalid_issuer' | 'invalid_request'> | StepUpFailure> {
  if (!(await isAcceptableIssuer(deps, input.issuer))) return fail('invalid_issuer');
  const domains = input.allowedDomains.map((d) => d.trim().toLowerCase()).filter(Boolean);
  if (!domains.every((d) => DOMAIN.test(d))) return fail('invalid_request');
  const now = deps.clock.now();
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const existing = await findSsoConnection(tx, context.org.id);
    if (!existing && !input.clientSecret) return fail('invalid_request');
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'change_sso_settings',
      input.verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    const secretCiphertext = input.clientSecret
      ? encryptSecret(
          deps.keys.encryption,
          Buffer.from(input.clientSecret, 'utf8'),
          clientSecretAad(context.org.id),
          deps.randomBytes,
        )
      : existing!.client_secret_ciphertext;
    await saveSsoConnection(tx, {
      org_id: context.org.id,
      issuer: normalizeIssuer(input.issuer),
      client_id: input.clientId,
      client_secret_ciphertext: secretCiphertext,
      allowed_domains: [...new Set(domains)],
      create_users: input.createUsers,
      updated_at: now,
    });
    await appendAuditEvent(tx, {
      type: 'org.sso_configured',
      orgId: context.org.id,
      actorUserId: context.user.id,
      ...origin,
      details: {
        issuer: input.issuer,
        client_id: input.clientId,
        allowed_domains: domains,
        create_users: input.createUsers,
      },
      at: now,
    });
    return ok(true as const);
  });
}

export async function removeSsoSettings(
  deps: ServiceDeps,
  context: SessionContext,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<Result<true> | StepUpFailure> {
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const stepUp = await checkStepUp(deps, tx, context, 'remove_sso', verification, origin);
    if (!stepUp.ok) return stepUp;
    await deleteSsoConnection(tx, context.org.id);
    await appendAuditEvent(tx, {
      type: 'org.sso_removed',
      orgId: context.org.id,
      actorUserId: context.user.id,
      ...origin,
      at: deps.clock.now(),
    });
    return ok(true as const);
  });
}

/** "Test the connection": the issuer's discovery document is fetched live and checked. */
export async function testSsoConnection(
  deps: ServiceDeps,
  context: SessionContext,
): Promise<Result<{ issuer: string }, 'sso_not_configured' | 'sso_unavailable'>> {
  const connection = await findSsoConnection(deps.db, context.org.id);
  if (!connection) return fail('sso_not_configured');
  try {
    const client = await probeProvider(deps, connection);
    return ok({ issuer: client.serverMetadata().issuer });
  } catch {
    return fail('sso_unavailable');
  }
}

/**
 * An issuer is compared to its discovery document's exactly. A root issuer typed with a trailing
 * slash is the usual slip; an issuer with a path is kept as typed (its slash may be meaningful).
 */
function normalizeIssuer(raw: string): string {
  const issuer = raw.trim();
  const url = new URL(issuer);
  return url.pathname === '/' && !url.search ? url.origin : issuer;
}
