import * as oidc from 'openid-client';
import type { AddressPolicy } from '../../core/issuer-address.ts';
import {
  SSO_DISCOVERY_CACHE_SECONDS,
  SSO_DISCOVERY_RETRY_SECONDS,
  SSO_PROVIDER_TIMEOUT_SECONDS,
  SSO_START_WAIT_SECONDS,
  SSO_TEST_TIMEOUT_SECONDS,
} from '../../core/limits.ts';
import { decryptSecret } from '../../core/secret-box.ts';
import type { SsoConnection } from '../../store/schema.ts';
import type { ServiceDeps } from '../deps.ts';
import {
  checkProviderUrl,
  createGuardedFetch,
  systemResolve,
  type Resolve,
} from './guarded-fetch.ts';
import { ProbeCache } from './probe-cache.ts';

/**
 * How this instance talks to identity providers: the address rule, the fetch that enforces it on
 * every connection, and the discovered configurations it reuses (per org).
 */
export type SsoProviders = {
  policy: AddressPolicy;
  resolve: Resolve;
  fetch: oidc.CustomFetch;
  configurations: ProbeCache<oidc.Configuration>;
};

export function createSsoProviders(options: {
  allowLoopback: boolean;
  resolve?: Resolve;
}): SsoProviders {
  const policy = { allowLoopback: options.allowLoopback };
  const resolve = options.resolve ?? systemResolve;
  const fetch = createGuardedFetch(policy, resolve);
  return {
    policy,
    resolve,
    fetch,
    configurations: new ProbeCache({
      freshSeconds: SSO_DISCOVERY_CACHE_SECONDS,
      retrySeconds: SSO_DISCOVERY_RETRY_SECONDS,
      waitSeconds: SSO_START_WAIT_SECONDS,
    }),
  };
}

export function clientSecretAad(orgId: string): string {
  return `sso-client-secret:${orgId}`;
}

/**
 * An issuer the server may fetch: https (http only for loopback, where allowed), no credentials,
 * and every address its name resolves to now permitted by the rule. Fetches check again when
 * they connect, since the name may resolve elsewhere by then.
 */
export async function isAcceptableIssuer(deps: ServiceDeps, issuer: string): Promise<boolean> {
  const { policy, resolve } = deps.ssoProviders;
  return (await checkProviderUrl(issuer, policy, resolve)) !== null;
}

/**
 * The org's provider configuration as sign-ins use it: from the cache, or fetched once for all
 * callers. Null means unavailable (down, hanging, or answering nonsense) for now.
 */
export function providerConfiguration(
  deps: ServiceDeps,
  connection: SsoConnection,
): Promise<oidc.Configuration | null> {
  return deps.ssoProviders.configurations.get(
    connection.org_id,
    fingerprintOf(connection),
    deps.clock,
    () => discover(deps, connection, SSO_PROVIDER_TIMEOUT_SECONDS),
  );
}

/** "Test connection": fetched live, with a short timeout; the outcome replaces the cached one. */
export function probeProvider(
  deps: ServiceDeps,
  connection: SsoConnection,
): Promise<oidc.Configuration> {
  return deps.ssoProviders.configurations.refresh(
    connection.org_id,
    fingerprintOf(connection),
    deps.clock,
    () => discover(deps, connection, SSO_TEST_TIMEOUT_SECONDS),
  );
}

/** A sign-in found the provider unreachable: the next ones say so at once, for a while. */
export function reportProviderUnreachable(deps: ServiceDeps, connection: SsoConnection): void {
  deps.ssoProviders.configurations.markFailed(
    connection.org_id,
    fingerprintOf(connection),
    deps.clock,
  );
}

export function ssoRedirectUri(deps: ServiceDeps): string {
  return new URL('/api/v1/auth/sso/callback', deps.publicUrl).toString();
}

/** Saving the connection again (new issuer, client or secret, or simply anew) starts afresh. */
function fingerprintOf(connection: SsoConnection): string {
  return [
    connection.issuer,
    connection.client_id,
    connection.client_secret_ciphertext,
    connection.updated_at.getTime(),
  ].join('\n');
}

/**
 * The relying-party configuration from the issuer's discovery document (openid-client checks that
 * the document names the same issuer). The endpoints the server itself will call come from the
 * provider, so they pass the same address rule. Throws when the provider cannot be reached or
 * answers nonsense.
 */
async function discover(
  deps: ServiceDeps,
  connection: SsoConnection,
  timeoutSeconds: number,
): Promise<oidc.Configuration> {
  const { policy, resolve, fetch } = deps.ssoProviders;
  const secret = Buffer.from(
    decryptSecret(
      deps.keys.encryption,
      connection.client_secret_ciphertext,
      clientSecretAad(connection.org_id),
    ),
  ).toString('utf8');
  const insecure = new URL(connection.issuer).protocol === 'http:';
  const configuration = await oidc.discovery(
    new URL(connection.issuer),
    connection.client_id,
    secret,
    undefined,
    {
      timeout: timeoutSeconds,
      [oidc.customFetch]: fetch,
      ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
    },
  );
  const metadata = configuration.serverMetadata();
  for (const endpoint of [metadata.token_endpoint, metadata.jwks_uri, metadata.userinfo_endpoint]) {
    if (endpoint !== undefined && !(await checkProviderUrl(endpoint, policy, resolve))) {
      throw new Error('the discovery document names an endpoint at an address that is not allowed');
    }
  }
  configuration.timeout = SSO_PROVIDER_TIMEOUT_SECONDS;
  return configuration;
}
