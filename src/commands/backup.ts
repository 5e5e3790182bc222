import {
  chmodSync,
  createWriteStream,
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import type { Config } from '../config.ts';
import { KEY_FILE } from '../master-key.ts';
import { CONTROL_SOCKET_NAME } from '../owner/control-socket.ts';
import { heldByLine, lockDataDir } from '../owner/data-dir-lock.ts';
import { OUTBOX_DIR, type Runtime } from '../runtime.ts';
import { openStore } from '../store/db.ts';
import { failed, succeeded, USE_PG_TOOLS, type CommandOutcome } from './command.ts';

/**
 * What Portcullis keeps in the embedded data dir beside PostgreSQL's files. A backup leaves them
 * out: the control socket and the dev outbox (mails that may hold codes) always, the key unless
 * asked for.
 */
const OWN_ENTRIES = new Set([KEY_FILE, CONTROL_SOCKET_NAME, OUTBOX_DIR]);

/**
 * Writes a gzipped tar of the embedded database, taken while it serves, to `file`, which must not
 * exist yet. The file appears whole or not at all, readable by its owner only.
 */
export async function writeBackup(
  { store, masterKey }: Pick<Runtime, 'store' | 'masterKey'>,
  { file, includeKey }: { file: string; includeKey: boolean },
): Promise<CommandOutcome> {
  if (!store.copyDataDir) return failed(USE_PG_TOOLS);
  if (existsSync(file)) return failed(`${file} exists; a backup never replaces a file`);
  if (!existsSync(dirname(file))) return failed(`the folder ${dirname(file)} does not exist`);
  // Staged beside the target, not in a shared temporary folder: it may hold the key.
  const staging = mkdtempSync(join(dirname(file), `.${basename(file)}.`));
  const partial = `${staging}.partial`;
  try {
    await store.copyDataDir(staging, (entry) => !OWN_ENTRIES.has(entry));
    if (includeKey) {
      writeFileSync(join(staging, KEY_FILE), `${masterKey.toString('base64')}\n`, { mode: 0o600 });
    }
    await pipeline(
      tar.c({ gzip: true, cwd: staging, portable: true }, readdirSync(staging)),
      createWriteStream(partial, { flags: 'wx', mode: 0o600, flush: true }),
    );
    // A link, unlike a rename, never replaces a file that appeared meanwhile.
    linkSync(partial, file);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
  const keyNote = includeKey
    ? 'it holds the encryption key: keep it as safe as the key itself'
    : `it does not hold the encryption key: keep ${KEY_FILE} from the data dir safe, apart from it`;
  return succeeded(`wrote ${file}; ${keyNote}`);
}

/**
 * Fills an empty embedded data dir from a backup, holding the data dir meanwhile so that no server
 * starts on a half-restored database. Anything already in the data dir is a refusal: a restore
 * never mixes two databases.
 */
export async function restoreBackup(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'encryptionKey'>,
  file: string,
): Promise<CommandOutcome> {
  if (config.databaseUrl) return failed(USE_PG_TOOLS);
  if (!existsSync(file)) return failed(`${file} does not exist`);
  const { dataDir } = config;
  const locked = await lockDataDir(dataDir, 'command');
  if (!locked.ok) {
    return failed(`${heldByLine(dataDir, locked.holder)}; restore fills an empty data dir only`);
  }
  try {
    if (entriesOf(dataDir).length > 0) {
      return failed(`the data dir ${dataDir} is not empty; restore fills an empty data dir only`);
    }
    // A data dir made by hand beforehand may be open to others; the database is not.
    chmodSync(dataDir, 0o700);
    if (!(await extracted(file, dataDir)) || !(await opens(dataDir))) {
      for (const entry of entriesOf(dataDir)) rmSync(join(dataDir, entry), { recursive: true });
      return failed(`${file} is not a Portcullis backup`);
    }
  } finally {
    await locked.lock.release();
  }
  return succeeded(`restored ${file} into ${dataDir}; ${keyNote(config, dataDir)}`);
}

async function extracted(file: string, dataDir: string): Promise<boolean> {
  try {
    await tar.x({
      file,
      cwd: dataDir,
      strict: true,
      // Whatever owners and modes the archive names, the files are the restoring user's, 0600/0700.
      preserveOwner: false,
      fmode: 0o600,
      dmode: 0o700,
      // Files and folders only: no links or devices from a file that may have been tampered with.
      filter: (_path, entry) => {
        if (!('type' in entry) || (entry.type !== 'File' && entry.type !== 'Directory')) {
          return false;
        }
        entry.mode = entry.type === 'File' ? 0o600 : 0o700;
        return true;
      },
    });
  } catch {
    return false;
  }
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/** Opening the database proves the copy whole before anyone relies on it. */
async function opens(dataDir: string): Promise<boolean> {
  try {
    const store = await openStore({ kind: 'pglite', dataDir });
    await store.close();
    return true;
  } catch {
    return false;
  }
}

function keyNote(config: Pick<Config, 'encryptionKey'>, dataDir: string): string {
  const keyFile = join(dataDir, KEY_FILE);
  if (existsSync(keyFile)) {
    chmodSync(keyFile, 0o600);
    return 'the backup held its encryption key';
  }
  if (config.encryptionKey) return 'the server will use PORTCULLIS_ENCRYPTION_KEY';
  return `the backup holds no encryption key: before starting the server, copy ${KEY_FILE} from the data dir it was made from into ${dataDir} (mode 0600), or set PORTCULLIS_ENCRYPTION_KEY`;
}

/** The data dir's entries, the restoring process's own control socket aside. */
function entriesOf(dataDir: string): string[] {
  return readdirSync(dataDir).filter((entry) => entry !== CONTROL_SOCKET_NAME);
}
