import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

test('on PostgreSQL a parameterized query is parsed once per connection, then reused', async (t) => {
  if (store.kind !== 'postgres') {
    t.skip('PGlite runs in process: there is no statement to prepare');
    return;
  }
  await store.db.connection().execute(async (connection) => {
    for (let i = 0; i < 3; i += 1) {
      await connection.selectFrom('orgs').select('id').where('slug', '=', `org-${i}`).execute();
    }
    const prepared = await sql<{ statement: string; calls: number }>`
      select statement from pg_prepared_statements where statement like '%from "orgs"%'`.execute(
      connection,
    );
    assert.equal(prepared.rows.length, 1, 'one statement, prepared once for three calls');
    const unparameterized = await sql<{ count: string }>`
      select count(*) from pg_prepared_statements where statement like 'select count(*) from pg_%'`.execute(
      connection,
    );
    assert.equal(Number(unparameterized.rows[0]?.count), 0, 'a query without parameters is not');
  });
});
