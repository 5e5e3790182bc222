import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { createDevOutbox, createSmtpMailer, type Mailer } from './mail/mailer.ts';
import { deriveServerKeys } from './core/secret-box.ts';
import { defaultSessionLifetimes } from './core/session-rules.ts';
import { loadMasterKey } from './master-key.ts';
import { systemClock, type ServiceDeps } from './services/deps.ts';
import { createPasswordHasher } from './services/password/hasher.ts';
import { createSsoProviders } from './services/sso/client.ts';
import { openStore, type Store } from './store/db.ts';

/** The dev outbox's folder inside the data dir. */
export const OUTBOX_DIR = 'outbox';

export type Runtime = {
  store: Store;
  deps: ServiceDeps;
  /** Kept for `backup --include-key`; the services use only the keys derived from it. */
  masterKey: Buffer;
};

/** Opens the configured database, brings its schema up to date and wires the services. */
export async function openRuntime(
  config: Pick<
    Config,
    | 'databaseUrl'
    | 'databasePoolSize'
    | 'dataDir'
    | 'encryptionKey'
    | 'smtpUrl'
    | 'mailFrom'
    | 'baseUrl'
    | 'port'
    | 'ssoAllowLoopback'
  >,
): Promise<Runtime> {
  // Checked before the database is opened: a missing key must stop start-up, not a later request.
  const masterKey = loadMasterKey(config);
  const keys = deriveServerKeys(masterKey);
  const store = await openStore(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize }
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
    mailer: openMailer(config),
    publicUrl: config.baseUrl ?? new URL(`http://localhost:${config.port}`),
    ssoProviders: createSsoProviders({ allowLoopback: config.ssoAllowLoopback }),
  };
  return { store, deps, masterKey };
}

function openMailer(config: Pick<Config, 'dataDir' | 'smtpUrl' | 'mailFrom'>): Mailer {
  if (!config.smtpUrl) {
    return createDevOutbox(
      join(config.dataDir, OUTBOX_DIR),
      (text) => process.stdout.write(text),
      () => new Date(),
    );
  }
  // Only the error's message and code: never the message being sent, which may hold a code.
  return createSmtpMailer(config.smtpUrl, config.mailFrom, (error) => {
    const code = (error as { code?: string }).code;
    process.stderr.write(
      `${JSON.stringify({ level: 50, msg: 'mail delivery failed', error: error.message, code })}\n`,
    );
  });
}
