import pg from 'pg';

/** The bench works in a database of its own, made afresh for every run and dropped at the end. */
export const BENCH_DATABASE = 'portcullis_bench';

/** The same server and credentials, another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops the bench database if a crashed run left it behind, creates it; returns the server's version. */
export async function recreateBenchDatabase(
  serverUrl: string,
  database = BENCH_DATABASE,
): Promise<string> {
  return withClient(serverUrl, async (client) => {
    await client.query(`drop database if exists ${database} with (force)`);
    await client.query(`create database ${database}`);
    const version = await client.query<{ server_version: string }>('show server_version');
    return version.rows[0]?.server_version ?? 'unknown';
  });
}

export async function dropBenchDatabase(
  serverUrl: string,
  database = BENCH_DATABASE,
): Promise<void> {
  await withClient(serverUrl, async (client) => {
    await client.query(`drop database if exists ${database} with (force)`);
  });
}
