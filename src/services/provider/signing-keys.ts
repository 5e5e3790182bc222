import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { JWK } from 'oidc-provider';
import { PROVIDER_RETIRED_KEY_SECONDS } from '../../core/limits.ts';
import { decryptSecret, encryptSecret } from '../../core/secret-box.ts';
import {
  insertFirstSigningKey,
  listPublishedSigningKeys,
  type OidcSigningKey,
} from '../../store/oidc-signing-keys.ts';
import type { ServiceDeps } from '../deps.ts';

type KeyDeps = Pick<ServiceDeps, 'db' | 'clock' | 'keys' | 'randomBytes'>;

/** RS256: the one algorithm every OpenID Connect relying party must accept. */
const SIGNING_ALG = 'RS256';
const RSA_BITS = 2048;

/**
 * The org's signing keys as private JWKs, the current one first (it signs; the others are only
 * published). The first call for an org generates its key.
 */
export async function loadSigningKeys(deps: KeyDeps, orgId: string): Promise<JWK[]> {
  const since = new Date(deps.clock.now().getTime() - PROVIDER_RETIRED_KEY_SECONDS * 1000);
  let keys = await listPublishedSigningKeys(deps.db, orgId, since);
  if (!keys.some((key) => !key.retired_at)) {
    await insertFirstSigningKey(deps.db, await generateSigningKey(deps, orgId));
    keys = await listPublishedSigningKeys(deps.db, orgId, since);
  }
  return keys.map((key) => privateJwkOf(deps, key));
}

async function generateSigningKey(deps: KeyDeps, orgId: string) {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: RSA_BITS,
  });
  const kid = deps.randomBytes(16).toString('base64url');
  const metadata = { kid, alg: SIGNING_ALG, use: 'sig' };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), ...metadata };
  return {
    org_id: orgId,
    kid,
    public_jwk: { ...publicKey.export({ format: 'jwk' }), ...metadata },
    private_jwk_ciphertext: encryptSecret(
      deps.keys.encryption,
      Buffer.from(JSON.stringify(privateJwk), 'utf8'),
      signingKeyAad(orgId, kid),
      deps.randomBytes,
    ),
    created_at: deps.clock.now(),
  };
}

function privateJwkOf(deps: KeyDeps, key: OidcSigningKey): JWK {
  const plain = decryptSecret(
    deps.keys.encryption,
    key.private_jwk_ciphertext,
    signingKeyAad(key.org_id, key.kid),
  );
  return JSON.parse(Buffer.from(plain).toString('utf8')) as JWK;
}

/** Binds a private key's ciphertext to its org and key id: copied to another row, it is useless. */
export function signingKeyAad(orgId: string, kid: string): string {
  return `oidc-signing-key:${orgId}:${kid}`;
}
