import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { deriveServerKeys } from './core/secret-box.ts';
import { defaultSessionLifetimes } from './core/session-rules.ts';
import { loadMasterKey } from './master-key.ts';
import { systemClock, type ServiceDeps } from './services/deps.ts';
import { createPasswordHasher } from './services/passwords.ts';
import { openStore, type Store } from './store/db.ts';

export type Runtime = { store: Store; deps: ServiceDeps };

/** Opens the configured database, brings its schema up to date and wires the services. */
export async function openRuntime(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'encryptionKey'>,
): Promise<Runtime> {
  // Checked before the database is opened: a missing key must stop start-up, not a later request.
  const keys = deriveServerKeys(loadMasterKey(config));
  const store = await openStore(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl }
      : { kind: 'pglite', dataDir: config.dataDir },
  );
  await store.migrate();
  const deps: ServiceDeps = {
    db: store.db,
    clock: systemClock,
    randomBytes,
    passwords: await createPasswordHasher(),
    sessionLifetimes: defaultSessionLifetimes,
    keys,
  };
  return { store, deps };
}
