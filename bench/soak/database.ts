import pg from 'pg';
import { POSTGRES_URL, SOAK_DATABASE } from './settings.ts';

/** Drops the soak database if a crashed run left it behind, then creates it. */
export async function recreateSoakDatabase(): Promise<void> {
  await onServer(`drop database if exists ${SOAK_DATABASE} with (force)`);
  await onServer(`create database ${SOAK_DATABASE}`);
}

export async function dropSoakDatabase(): Promise<void> {
  await onServer(`drop database if exists ${SOAK_DATABASE} with (force)`);
}

async function onServer(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}
