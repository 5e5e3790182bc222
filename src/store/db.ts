import { cpSync, mkdirSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DEFAULT_POOL_SIZE } from '../core/limits.ts';
import { prepareStatements } from './prepared-statements.ts';
import type { Database } from './schema.ts';
import { migrateToLatest } from './migrate.ts';

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string | null }
  | { kind: 'postgres'; url: string; schema?: string; poolSize?: number };

export type Store = {
  db: Kysely<Database>;
  kind: DatabaseTarget['kind'];
  migrate(): Promise<void>;
  isReachable(): Promise<boolean>;
  /**
   * Copies the embedded database's data dir into `target`, consistent as of one instant, leaving
   * out the top-level entries `keep` refuses; null on PostgreSQL, which has pg_dump.
   */
  copyDataDir: ((target: string, keep: (entry: string) => boolean) => Promise<void>) | null;
  close(): Promise<void>;
};

/**
 * Opens the embedded PGlite database (persisted in dataDir, or in memory when null) or a
 * PostgreSQL pool. A schema confines a PostgreSQL store to its own namespace: test runs use one
 * each so that they never collide on a shared server.
 */
export async function openStore(target: DatabaseTarget): Promise<Store> {
  const { db, schema } = await openKysely(target);
  const dataDir = target.kind === 'pglite' ? target.dataDir : null;
  return {
    db,
    kind: target.kind,
    copyDataDir: dataDir
      ? (copy, keep) => copyConsistently(db, { from: dataDir, to: copy, keep })
      : null,
    async migrate() {
      const { error, results } = await migrateToLatest(db, schema);
      const failed = results?.find((r) => r.status === 'Error');
      if (error || failed) {
        throw new Error(`migration ${failed?.migrationName ?? ''} failed`, { cause: error });
      }
    },
    async isReachable() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * Kysely hands PGlite's one connection to one caller at a time, and PGlite has no background
 * process: while this holds the connection, nothing writes and no transaction is open. The
 * checkpoint first writes out what is still only in shared buffers, so the copy is whole without
 * recovery. (PGlite's own dumpDataDir cannot be used: it fails on the control socket in the data
 * dir.) Requests wait meanwhile: seconds for a data dir of a few dozen megabytes.
 */
async function copyConsistently(
  db: Kysely<Database>,
  { from, to, keep }: { from: string; to: string; keep: (entry: string) => boolean },
): Promise<void> {
  await db.connection().execute(async (connection) => {
    await sql`checkpoint`.execute(connection);
    cpSync(from, to, {
      recursive: true,
      filter: (source) => {
        const entry = relative(from, source).split(sep)[0] ?? '';
        return entry === '' || keep(entry);
      },
    });
  });
}

async function openKysely(
  target: DatabaseTarget,
): Promise<{ db: Kysely<Database>; schema?: string }> {
  if (target.kind === 'pglite') {
    if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
    // Loaded only when used: a server on PostgreSQL never pays the embedded database's memory.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGliteDialect } = await import('kysely-pglite-dialect');
    // One options object: PGlite.create ignores its second argument when the first is not a path.
    const pglite = await PGlite.create({
      ...(target.dataDir ? { dataDir: target.dataDir } : {}),
      startParams: [...PGlite.defaultStartParams, ...pgliteSettings.flatMap((s) => ['-c', s])],
    });
    return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }) };
  }
  const schema = target.schema;
  // JIT compilation pays off for long analytic queries, never for the short indexed ones an
  // identity service runs; it once turned a 0.5 ms page of users into 145 ms of compiling.
  const options = ['-c jit=off', ...(schema ? [`-c search_path=${quoteIdentifier(schema)}`] : [])];
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.poolSize ?? DEFAULT_POOL_SIZE,
    options: options.join(' '),
  });
  prepareStatements(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  return schema ? { db, schema } : { db };
}

/**
 * PGlite starts PostgreSQL with a server's defaults: 128 MB of shared buffers, which the
 * WebAssembly build allocates and touches at start (142 MB of shared memory, 24 MB with 16 MB of
 * buffers). Measured with `npm run bench:memory`: resident memory after a warm-up fell from
 * 400–440 MB to 285–335 MB, and GET /me and sign-in were no slower. An identity service's working
 * set is small, and a page outside the pool is one read from the OS page cache.
 */
const pgliteSettings = ['shared_buffers=16MB'];

function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`bad schema name: ${name}`);
  return name;
}
