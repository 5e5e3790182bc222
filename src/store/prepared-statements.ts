import { createHash } from 'node:crypto';
import type pg from 'pg';

/** Bounds what each connection keeps on the server; the application has far fewer query shapes. */
const MAX_STATEMENTS_PER_CONNECTION = 500;

type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Makes every parameterized query of the pool's connections a named prepared statement:
 * PostgreSQL parses it once per connection instead of once per call. The name is a hash of the
 * text, so one name always means one text.
 */
export function prepareStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const prepared = new Set<string>();
    const query = client.query.bind(client) as Query;
    (client as unknown as { query: Query }).query = (config, values, callback) => {
      const preparable =
        typeof config === 'string' &&
        Array.isArray(values) &&
        values.length > 0 &&
        callback === undefined &&
        (prepared.has(config) || prepared.size < MAX_STATEMENTS_PER_CONNECTION);
      if (!preparable) return query(config, values, callback);
      prepared.add(config);
      return query({ name: statementName(config), text: config, values });
    };
  });
}

function statementName(text: string): string {
  return `p_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
}
