import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { defaultSessionLifetimes } from './core/session-rules.ts';
import { systemClock, type ServiceDeps } from './services/deps.ts';
import { createPasswordHasher } from './services/passwords.ts';
import { openStore, type Store } from './store/db.ts';

export type Runtime = { store: Store; deps: ServiceDeps };

/** Opens the configured database, brings its schema up to date and wires the services. */
export async function openRuntime(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
): Promise<Runtime> {
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
  };
  return { store, deps };
}
