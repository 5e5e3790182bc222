import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.ts';

export type TestStore = Store & {
  /**
   * Another connection pool on the same data, as a second server instance would have (on
   * PostgreSQL). PGlite has one connection only, so there the twin is the same store.
   */
  twin(): Promise<Store>;
  dispose(): Promise<void>;
};

/**
 * The store of the enclosing test file (or suite): opened by a `before` hook, disposed by an
 * `after` hook registered first, which runs even when opening fails half-way. The object returned
 * stands for the store from the first test on (a proxy: the store itself exists only once the
 * hook has run); touching it sooner is a mistake in the test, and throws.
 */
export function useTestStore(): TestStore {
  let opened: TestStore | undefined;
  after(() => opened?.dispose());
  before(async () => {
    opened = await openTestStore();
  });
  const current = (): TestStore => {
    if (!opened) throw new Error('the test store is opened by a before hook: use it inside a test');
    return opened;
  };
  return new Proxy({} as TestStore, {
    get: (_, key) => Reflect.get(current(), key),
    has: (_, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key);
      // A proxy may only report a property its (empty) target lacks as configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/**
 * The store for one test file: in-memory PGlite by default; with PORTCULLIS_TEST_DATABASE_URL, a
 * schema of its own on that PostgreSQL, dropped at the end, so that parallel files and parallel
 * CI runs never see each other's rows.
 */
export async function openTestStore(): Promise<TestStore> {
  const url = process.env.PORTCULLIS_TEST_DATABASE_URL;
  if (!url) {
    const store = await openStore({ kind: 'pglite', dataDir: null });
    await closedOnFailure(store, () => store.migrate());
    return {
      ...store,
      twin: async () => ({ ...store, close: async () => {} }),
      dispose: () => store.close(),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ kind: 'postgres', url, schema });
  await closedOnFailure(store, () => underSchemaLock(url, () => store.migrate()));
  const twins: Store[] = [];
  return {
    ...store,
    async twin() {
      const twin = await openStore({ kind: 'postgres', url, schema });
      twins.push(twin);
      return twin;
    },
    async dispose() {
      for (const twin of twins) await twin.close();
      await underSchemaLock(url, () => store.db.schema.dropSchema(schema).cascade().execute());
      await store.close();
    },
  };
}

/**
 * Kysely's migrator looks at the tables of every schema, resolving each by name; a schema that a
 * parallel file drops meanwhile makes that lookup fail with "schema does not exist". Creating and
 * dropping test schemas therefore take turns, under one advisory lock of the test database.
 */
async function underSchemaLock<T>(url: string, action: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [SCHEMA_LOCK]);
    return await action();
  } finally {
    await client.end();
  }
}

const SCHEMA_LOCK = 'portcullis test schemas';

/** A store whose set-up fails is closed at once: nobody else holds it to close it later. */
async function closedOnFailure(store: Store, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
