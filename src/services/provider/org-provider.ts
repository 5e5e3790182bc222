import Provider, { type Adapter, type Configuration, type JWK } from 'oidc-provider';
import { ACR_VALUES } from '../../core/authentication-facts.ts';
import {
  PROVIDER_ACCESS_TOKEN_SECONDS,
  PROVIDER_AUTHORIZATION_CODE_SECONDS,
  PROVIDER_ID_TOKEN_SECONDS,
  PROVIDER_INTERACTION_SECONDS,
  PROVIDER_REFRESH_TOKEN_SECONDS,
  PROVIDER_SESSION_SECONDS,
} from '../../core/limits.ts';
import type { Org } from '../../store/schema.ts';
import type { ServiceDeps } from '../deps.ts';
import { payloadAdapter } from './adapter.ts';
import { appAdapter } from './app-adapter.ts';
import { findAccount } from './accounts.ts';
import { issuerPath, issuerOf } from './issuer.ts';
import { loginPolicy } from './login-policy.ts';

/**
 * The OpenID Provider of one org: its issuer, its signing keys, and its state and clients read
 * from the database under the org's id only. oidc-provider fixes the issuer when a provider is
 * built, so each org has an instance of its own (built on first use, see org-providers.ts); one
 * org's provider can find neither another org's apps, nor its users, nor its codes and sessions.
 */
export function createOrgProvider(
  deps: ServiceDeps,
  org: Org,
  signingKeys: JWK[],
  /** The console's session cookie: the provider signs in whoever it signs in. */
  consoleCookie: string,
): Provider {
  const adapter = (model: string): Adapter =>
    model === 'Client' ? appAdapter(deps, org.id) : payloadAdapter(deps, org.id, model);
  const configuration: Configuration = {
    adapter,
    findAccount: (_ctx, id) => findAccount(deps, org.id, id),
    jwks: { keys: signingKeys },
    cookies: {
      keys: [deps.keys.providerCookies.toString('base64url')],
      names: {
        session: 'portcullis_oidc_session',
        interaction: 'portcullis_oidc_interaction',
        resume: 'portcullis_oidc_resume',
      },
      // The provider's session cookie reaches only its own issuer's paths: orgs never share it.
      long: { httpOnly: true, sameSite: 'lax', path: issuerPath(org.slug) },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    acrValues: [...ACR_VALUES],
    claims: {
      // How the user authenticated, in every ID token (not only when an app asks for it).
      openid: ['sub', 'org', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    responseTypes: ['code'],
    // OAuth 2.1: every app proves its authorization request with PKCE (S256, the only method).
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      // An app learns about and revokes its own tokens only, never another app's of the org.
      introspection: { enabled: true, allowedPolicy: ownTokenOnly },
      revocation: { enabled: true, allowedPolicy: ownTokenOnly },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // Every app that may refresh gets a refresh token; each use replaces it, and a replaced one
    // used again revokes the grant (see adapter.ts).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: PROVIDER_ACCESS_TOKEN_SECONDS,
      AuthorizationCode: PROVIDER_AUTHORIZATION_CODE_SECONDS,
      IdToken: PROVIDER_ID_TOKEN_SECONDS,
      Interaction: PROVIDER_INTERACTION_SECONDS,
      Session: PROVIDER_SESSION_SECONDS,
      Grant: PROVIDER_SESSION_SECONDS,
      // Rotation hands on what is left: no chain of refreshes outlives the first token.
      RefreshToken: (ctx) =>
        ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? PROVIDER_REFRESH_TOKEN_SECONDS,
    },
    interactions: {
      policy: loginPolicy(deps, org.id, consoleCookie),
      url: (_ctx, interaction) => `${issuerPath(org.slug)}/interaction/${interaction.uid}`,
    },
    // Every app is first-party (the org's admins registered it): the user is not asked to consent,
    // and the grant covers the scopes and claims the app asks for.
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const clientId = oidc.client!.clientId;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(clientId);
      const accountId = oidc.session!.accountId!;
      const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      const grant =
        existing && existing.accountId === accountId
          ? existing
          : new oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    renderError: (ctx, out) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
    },
  };
  const provider = new Provider(issuerOf(deps.publicUrl, org.slug), configuration);
  // The provider's URLs come from PORTCULLIS_BASE_URL, never from a request's Host header: the
  // route that hands it requests sets these forwarded headers itself (routes/oidc.ts).
  provider.proxy = true;
  return provider;
}

async function ownTokenOnly(
  _ctx: unknown,
  client: { clientId: string },
  token: { clientId?: string },
): Promise<boolean> {
  return token.clientId === client.clientId;
}
