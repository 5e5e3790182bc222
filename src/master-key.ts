import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from './config.ts';

export const KEY_FILE = 'encryption.key';

/** PostgreSQL's first file in a data dir: its presence means the data dir holds a database. */
const DATABASE_MARKER = 'PG_VERSION';

/**
 * The master key that encrypts TOTP secrets and keys code HMACs. With the embedded database a key
 * is generated once into the data dir (mode 0600) beside the data it protects, when the data dir
 * holds no database yet. With PostgreSQL the
 * key must come from the environment: a key generated on one instance would not exist on the next.
 */
export function loadMasterKey(
  config: Pick<Config, 'encryptionKey' | 'databaseUrl' | 'dataDir'>,
): Buffer {
  if (config.encryptionKey) return config.encryptionKey;
  if (config.databaseUrl) {
    throw new ConfigError(
      'PORTCULLIS_ENCRYPTION_KEY is required with DATABASE_URL (make one with: openssl rand -base64 32)',
    );
  }
  const path = join(config.dataDir, KEY_FILE);
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ConfigError(`${path} does not hold a 32-byte base64 key`);
    return key;
  }
  // A new key would make every TOTP secret of that database unreadable, for good.
  if (existsSync(join(config.dataDir, DATABASE_MARKER))) {
    throw new ConfigError(
      `${config.dataDir} holds a database but no ${KEY_FILE}: put back the key it was made with (a backup made without --include-key leaves it out), or set PORTCULLIS_ENCRYPTION_KEY`,
    );
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
