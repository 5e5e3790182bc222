import type { Adapter, AdapterPayload } from 'oidc-provider';
import { decryptSecret } from '../../core/secret-box.ts';
import { findOidcApp } from '../../store/oidc-apps.ts';
import type { OidcApp } from '../../store/schema.ts';
import type { ServiceDeps } from '../deps.ts';

type AppDeps = Pick<ServiceDeps, 'db' | 'keys'>;

/**
 * The provider reads its clients from the org's registered apps, on every request (it keeps the
 * client it built while the metadata stays the same): an app changed or deleted through the API
 * is seen by every instance at once. Apps are written only through the API, never by the provider
 * (dynamic client registration is off).
 */
export function appAdapter(deps: AppDeps, orgId: string): Adapter {
  const readOnly = async (): Promise<never> => {
    throw new Error('apps are registered through the API only');
  };
  return {
    async find(clientId) {
      const app = await findOidcApp(deps.db, orgId, clientId);
      return app ? clientMetadataOf(deps, app) : undefined;
    },
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    upsert: readOnly,
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: readOnly,
  };
}

function clientMetadataOf(deps: AppDeps, app: OidcApp): AdapterPayload {
  const common = {
    client_id: app.client_id,
    client_name: app.name,
    redirect_uris: app.redirect_uris,
    post_logout_redirect_uris: app.post_logout_redirect_uris,
  };
  if (app.public || !app.client_secret_ciphertext) {
    return { ...common, token_endpoint_auth_method: 'none' };
  }
  // oidc-provider compares the secret an app presents with this one in constant time; it is kept
  // encrypted at rest and decrypted only here.
  const secret = decryptSecret(
    deps.keys.encryption,
    app.client_secret_ciphertext,
    appSecretAad(app.org_id, app.client_id),
  );
  return {
    ...common,
    client_secret: Buffer.from(secret).toString('utf8'),
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

/** Binds an app's secret ciphertext to its org and client id. */
export function appSecretAad(orgId: string, clientId: string): string {
  return `oidc-app-secret:${orgId}:${clientId}`;
}
