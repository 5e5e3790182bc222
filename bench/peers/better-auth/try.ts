/**
 * Measures Better Auth alone, quickly (one run of 3 s per scenario), and prints the figures:
 *   ./node_modules/.bin/node bench/peers/better-auth/try.ts
 * DATABASE_SERVER_URL picks another PostgreSQL server than the local one.
 */
import { measureBetterAuth } from './measure.ts';

const figures = await measureBetterAuth({
  postgresUrl: process.env.DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  runs: 1,
  seconds: 3,
  connections: 10,
  log: (line) => console.error(line),
});
console.log(JSON.stringify(figures, null, 2));
