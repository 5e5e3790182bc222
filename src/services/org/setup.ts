import { sql } from 'kysely';
import { fail } from '../../core/errors.ts';
import { SETUP_TOKEN_BYTES } from '../../core/limits.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { anyOrgExists } from '../../store/orgs.ts';
import {
  consumeSetupToken,
  deleteAllSetupTokens,
  insertSetupToken,
} from '../../store/setup-tokens.ts';
import { insertOrgWithAdmin, prepareOrg, type NewOrg } from './accounts.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';

/** An arbitrary constant naming the advisory lock that serializes first-run setup. */
const SETUP_LOCK_ID = 7_340_001;

/**
 * On an empty store, makes a one-time setup token (only its hash is kept) for the link printed at
 * start-up. Every start prints a fresh one; all of them die once the first org exists.
 */
export async function issueSetupTokenIfEmpty(deps: ServiceDeps): Promise<string | null> {
  if (await anyOrgExists(deps.db)) return null;
  const token = generateToken(deps.randomBytes, SETUP_TOKEN_BYTES);
  await insertSetupToken(deps.db, hashToken(token), deps.clock.now());
  return token;
}

export async function setupIsOpen(deps: ServiceDeps): Promise<boolean> {
  return !(await anyOrgExists(deps.db));
}

/**
 * Bad input is refused before the token is touched, so a typo does not burn the link. The
 * advisory lock makes "no org exists yet" and the creation one step, even when two instances
 * printed two links and both are used at once.
 */
export async function completeSetup(
  deps: ServiceDeps,
  token: string,
  input: NewOrg,
  origin: RequestOrigin,
) {
  const prepared = await prepareOrg(deps, input);
  if (!prepared.ok) return prepared;
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${SETUP_LOCK_ID})`.execute(tx);
    if (await anyOrgExists(tx)) return fail('setup_complete');
    if (!(await consumeSetupToken(tx, hashToken(token)))) return fail('invalid_setup_token');
    const created = await insertOrgWithAdmin(tx, prepared.value, now, origin);
    if (created.ok) await deleteAllSetupTokens(tx);
    return created;
  });
}
