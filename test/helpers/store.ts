import { randomBytes } from 'node:crypto';
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
 * The store for one test file: in-memory PGlite by default; with PORTCULLIS_TEST_DATABASE_URL, a
 * schema of its own on that PostgreSQL, dropped at the end, so that parallel files and parallel
 * CI runs never see each other's rows.
 */
export async function openTestStore(): Promise<TestStore> {
  const url = process.env.PORTCULLIS_TEST_DATABASE_URL;
  if (!url) {
    const store = await openStore({ kind: 'pglite', dataDir: null });
    await store.migrate();
    return {
      ...store,
      twin: async () => ({ ...store, close: async () => {} }),
      dispose: () => store.close(),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ kind: 'postgres', url, schema });
  await store.migrate();
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
      await store.db.schema.dropSchema(schema).cascade().execute();
      await store.close();
    },
  };
}
