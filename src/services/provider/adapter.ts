import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import {
  consumeOidcPayload,
  deleteOidcGrant,
  deleteOidcPayload,
  deleteOidcPayloadsOfGrant,
  findOidcPayload,
  upsertOidcPayload,
  type OidcObjectKey,
  type OidcPayloadRow,
} from '../../store/oidc-payloads.ts';
import type { ServiceDeps } from '../deps.ts';

type AdapterDeps = Pick<ServiceDeps, 'db' | 'clock'>;

/**
 * oidc-provider's storage for one org's issuer: every model (Session, Grant, Interaction,
 * AuthorizationCode, AccessToken, RefreshToken...) is kept in oidc_payloads under the org's id,
 * so that an issuer only ever finds its own org's objects, and any instance finds what another
 * one saved.
 */
export function payloadAdapter(deps: AdapterDeps, orgId: string, model: string): Adapter {
  const key: OidcObjectKey = { orgId, model };
  const find = async (by: { id: string } | { uid: string } | { userCode: string }) =>
    payloadOf(await findOidcPayload(deps.db, key, by, deps.clock.now()));
  return {
    async upsert(id, payload, expiresIn) {
      const now = deps.clock.now();
      await upsertOidcPayload(deps.db, key, {
        id,
        payload: payload as Record<string, unknown>,
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: model === 'Session' ? (payload.uid ?? null) : null,
        expiresAt:
          typeof expiresIn === 'number' ? new Date(now.getTime() + expiresIn * 1000) : null,
        consumedAt: typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null,
      });
    },
    find: (id) => find({ id }),
    findByUid: (uid) => find({ uid }),
    findByUserCode: (userCode) => find({ userCode }),
    async consume(id) {
      const result = await consumeOidcPayload(deps.db, key, id, deps.clock.now());
      if (result.outcome === 'consumed') return;
      // A second redemption, here or racing on another instance: whoever holds the code or
      // token may not be its owner, so what the grant issued is revoked (RFC 6749 4.1.2,
      // RFC 9700 4.14.2) and nothing more is issued.
      if (result.outcome === 'already_consumed' && result.grantId) {
        await deleteOidcGrant(deps.db, orgId, result.grantId);
      }
      throw new errors.InvalidGrant('grant request is invalid');
    },
    destroy: (id) => deleteOidcPayload(deps.db, key, id),
    revokeByGrantId: (grantId) => deleteOidcPayloadsOfGrant(deps.db, key, grantId),
  };
}

function payloadOf(row: OidcPayloadRow | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = row.payload as AdapterPayload;
  if (!row.consumed_at) return payload;
  return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
}
