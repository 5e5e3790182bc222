import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../../src/store/db.ts';

/**
 * The store for one test file: in-memory PGlite by default; with PORTCULLIS_TEST_DATABASE_URL, a
 * schema of its own on that PostgreSQL, dropped at the end, so that parallel files and parallel
 * CI runs never see each other's rows.
 */
export async function openTestStore(): Promise<Store & { dispose(): Promise<void> }> {
  const url = process.env.PORTCULLIS_TEST_DATABASE_URL;
  if (!url) {
    const store = await openStore({ kind: 'pglite', dataDir: null });
    await store.migrate();
    return { ...store, dispose: () => store.close() };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ kind: 'postgres', url, schema });
  await store.migrate();
  return {
    ...store,
    async dispose() {
      await store.db.schema.dropSchema(schema).cascade().execute();
      await store.close();
    },
  };
}
