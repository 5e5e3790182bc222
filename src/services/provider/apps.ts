import type { Kysely } from 'kysely';
import { isAcceptableAppUri } from '../../core/app-uris.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { encryptSecret } from '../../core/secret-box.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import {
  deleteOidcApp,
  findOidcApp,
  insertOidcApp,
  listOidcApps,
  replaceOidcAppSecret,
  updateOidcApp,
} from '../../store/oidc-apps.ts';
import { deleteOidcPayloadsOfClient } from '../../store/oidc-payloads.ts';
import type { Database, OidcApp } from '../../store/schema.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { checkStepUp, type StepUpFailure } from '../mfa/step-up.ts';
import type { VerificationInput } from '../mfa/verification.ts';
import { appSecretAad } from './app-adapter.ts';

/** 256 bits: a client secret is compared as it is, never guessed. */
const CLIENT_SECRET_BYTES = 32;
const CLIENT_ID_BYTES = 16;

export type AppSettings = {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
};

export type AppCredentials = { clientId: string; clientSecret: string | null };

type AppFailure = Failure<'invalid_name' | 'invalid_redirect_uri'> | StepUpFailure;

/**
 * Registers an app of the caller's org. A confidential app gets a client secret, returned here
 * once and kept only encrypted; a public app (in a browser or on a device) has none and must
 * prove each sign-in with PKCE.
 */
export async function registerApp(
  deps: ServiceDeps,
  context: SessionContext,
  input: AppSettings & { public: boolean; verification?: VerificationInput },
  origin: RequestOrigin,
): Promise<Result<AppCredentials> | AppFailure> {
  const settings = checkSettings(input);
  if (!settings.ok) return settings;
  const clientId = deps.randomBytes(CLIENT_ID_BYTES).toString('base64url');
  const clientSecret = input.public
    ? null
    : deps.randomBytes(CLIENT_SECRET_BYTES).toString('base64url');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const stepUp = await checkStepUp(deps, tx, context, 'register_app', input.verification, origin);
    if (!stepUp.ok) return stepUp;
    const now = deps.clock.now();
    await insertOidcApp(tx, {
      client_id: clientId,
      org_id: context.org.id,
      ...columnsOf(settings.value),
      public: input.public,
      client_secret_ciphertext: clientSecret
        ? sealSecret(deps, context.org.id, clientId, clientSecret)
        : null,
      created_at: now,
      updated_at: now,
    });
    await audit(tx, context, origin, now, 'org.app_registered', {
      client_id: clientId,
      name: settings.value.name,
      redirect_uris: settings.value.redirectUris,
      public: input.public,
    });
    return ok({ clientId, clientSecret });
  });
}

export async function listApps(deps: ServiceDeps, context: SessionContext): Promise<OidcApp[]> {
  return listOidcApps(deps.db, context.org.id);
}

export async function readApp(
  deps: ServiceDeps,
  context: SessionContext,
  clientId: string,
): Promise<OidcApp | undefined> {
  return findOidcApp(deps.db, context.org.id, clientId);
}

/** Replaces the app's settings: its redirect URIs decide where sign-ins go, hence the step-up. */
export async function updateApp(
  deps: ServiceDeps,
  context: SessionContext,
  clientId: string,
  input: AppSettings & { verification?: VerificationInput },
  origin: RequestOrigin,
): Promise<Result<OidcApp> | AppFailure | Failure<'not_found'>> {
  const settings = checkSettings(input);
  if (!settings.ok) return settings;
  if (!(await findOidcApp(deps.db, context.org.id, clientId))) return fail('not_found');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const stepUp = await checkStepUp(deps, tx, context, 'change_app', input.verification, origin);
    if (!stepUp.ok) return stepUp;
    const now = deps.clock.now();
    const app = await updateOidcApp(tx, context.org.id, clientId, {
      ...columnsOf(settings.value),
      updated_at: now,
    });
    if (!app) return fail('not_found');
    await audit(tx, context, origin, now, 'org.app_updated', {
      client_id: clientId,
      name: app.name,
      redirect_uris: app.redirect_uris,
    });
    return ok(app);
  });
}

/** A new secret replaces the old one at once: the app must be given it before its next call. */
export async function rotateAppSecret(
  deps: ServiceDeps,
  context: SessionContext,
  clientId: string,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<Result<AppCredentials> | StepUpFailure | Failure<'not_found' | 'app_is_public'>> {
  const app = await findOidcApp(deps.db, context.org.id, clientId);
  if (!app) return fail('not_found');
  if (app.public) return fail('app_is_public');
  const clientSecret = deps.randomBytes(CLIENT_SECRET_BYTES).toString('base64url');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const stepUp = await checkStepUp(deps, tx, context, 'rotate_app_secret', verification, origin);
    if (!stepUp.ok) return stepUp;
    const now = deps.clock.now();
    const sealed = sealSecret(deps, context.org.id, clientId, clientSecret);
    if (!(await replaceOidcAppSecret(tx, context.org.id, clientId, sealed, now))) {
      return fail('not_found');
    }
    await audit(tx, context, origin, now, 'org.app_secret_rotated', { client_id: clientId });
    return ok({ clientId, clientSecret });
  });
}

/** Deletes the app and everything the provider issued to it: its users' tokens stop working. */
export async function removeApp(
  deps: ServiceDeps,
  context: SessionContext,
  clientId: string,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<Result<true> | StepUpFailure | Failure<'not_found'>> {
  const app = await findOidcApp(deps.db, context.org.id, clientId);
  if (!app) return fail('not_found');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const stepUp = await checkStepUp(deps, tx, context, 'remove_app', verification, origin);
    if (!stepUp.ok) return stepUp;
    if (!(await deleteOidcApp(tx, context.org.id, clientId))) return fail('not_found');
    await deleteOidcPayloadsOfClient(tx, context.org.id, clientId);
    await audit(tx, context, origin, deps.clock.now(), 'org.app_removed', {
      client_id: clientId,
      name: app.name,
    });
    return ok(true as const);
  });
}

function checkSettings(
  input: AppSettings,
): Result<AppSettings, 'invalid_name' | 'invalid_redirect_uri'> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) return fail('invalid_name');
  const uris = [
    ...input.redirectUris,
    ...input.postLogoutRedirectUris,
    ...(input.backchannelLogoutUri === null ? [] : [input.backchannelLogoutUri]),
  ];
  if (input.redirectUris.length === 0 || !uris.every(isAcceptableAppUri)) {
    return fail('invalid_redirect_uri');
  }
  return ok({
    name,
    redirectUris: [...new Set(input.redirectUris)],
    postLogoutRedirectUris: [...new Set(input.postLogoutRedirectUris)],
    backchannelLogoutUri: input.backchannelLogoutUri,
  });
}

function columnsOf(settings: AppSettings) {
  return {
    name: settings.name,
    redirect_uris: settings.redirectUris,
    post_logout_redirect_uris: settings.postLogoutRedirectUris,
    backchannel_logout_uri: settings.backchannelLogoutUri,
  };
}

function sealSecret(deps: ServiceDeps, orgId: string, clientId: string, secret: string): string {
  return encryptSecret(
    deps.keys.encryption,
    Buffer.from(secret, 'utf8'),
    appSecretAad(orgId, clientId),
    deps.randomBytes,
  );
}

async function audit(
  tx: Kysely<Database>,
  context: SessionContext,
  origin: RequestOrigin,
  at: Date,
  type: 'org.app_registered' | 'org.app_updated' | 'org.app_secret_rotated' | 'org.app_removed',
  details: Record<string, unknown>,
): Promise<void> {
  await appendAuditEvent(tx, {
    type,
    orgId: context.org.id,
    actorUserId: context.user.id,
    ...origin,
    details,
    at,
  });
}
