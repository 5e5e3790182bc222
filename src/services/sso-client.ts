import * as oidc from 'openid-client';
import { decryptSecret } from '../core/secret-box.ts';
import type { SsoConnection } from '../store/schema.ts';
import type { ServiceDeps } from './deps.ts';

/** How long a call to the identity provider may take before the sign-in is refused. */
const IDP_TIMEOUT_SECONDS = 10;

export function clientSecretAad(orgId: string): string {
  return `sso-client-secret:${orgId}`;
}

/** https is required, except for an identity provider on this machine (development and tests). */
export function isAcceptableIssuer(issuer: string): boolean {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * The relying-party configuration of an org's connection, from the issuer's discovery document
 * (openid-client checks that the document names the same issuer). Throws when the identity
 * provider cannot be reached or answers nonsense.
 */
export async function discoverClient(
  deps: ServiceDeps,
  connection: SsoConnection,
): Promise<oidc.Configuration> {
  const secret = Buffer.from(
    decryptSecret(
      deps.keys.encryption,
      connection.client_secret_ciphertext,
      clientSecretAad(connection.org_id),
    ),
  ).toString('utf8');
  const insecure = new URL(connection.issuer).protocol === 'http:';
  return oidc.discovery(new URL(connection.issuer), connection.client_id, secret, undefined, {
    timeout: IDP_TIMEOUT_SECONDS,
    ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
}

export function ssoRedirectUri(deps: ServiceDeps): string {
  return new URL('/api/v1/auth/sso/callback', deps.publicUrl).toString();
}
