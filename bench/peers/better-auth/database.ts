import pg from 'pg';

/**
 * The peer's own database on the given server: dropped if a previous run left it, created empty,
 * and dropped at the end. FORCE ends connections a crashed run may have left open.
 */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await onServer(serverUrl, async (db) => {
    await db.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await db.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, (db) =>
    db.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  );
}

async function onServer(serverUrl: string, work: (db: pg.Client) => Promise<unknown>) {
  const db = new pg.Client({ connectionString: serverUrl });
  await db.connect();
  try {
    await work(db);
  } finally {
    await db.end();
  }
}
