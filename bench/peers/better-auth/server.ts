/**
 * Better Auth as a deployment would run it for the benchmark: its defaults, email and password,
 * the two-factor plugin, PostgreSQL through a `pg` Pool, one node:http process on loopback.
 * Started by measure.ts with PORT, DATABASE_URL and BETTER_AUTH_SECRET in the environment.
 */
import { createServer } from 'node:http';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { twoFactor } from 'better-auth/plugins/two-factor';
import pg from 'pg';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new TypeError(`${name} is not set`);
  return value;
}

const port = Number(required('PORT'));
const options = {
  baseURL: `http://127.0.0.1:${port}`,
  secret: required('BETTER_AUTH_SECRET'),
  database: new pg.Pool({ connectionString: required('DATABASE_URL') }),
  emailAndPassword: { enabled: true },
  plugins: [twoFactor()],
  // Better Auth turns its rate limiter on in production only (3 requests per 10 s on
  // /two-factor/*). Off here so that it cannot throttle the load, as Portcullis' bench raises its
  // own per-IP limit: the benchmark measures the work of each request, not the limiter.
  rateLimit: { enabled: false },
} satisfies BetterAuthOptions;

const { runMigrations } = await getMigrations(options);
await runMigrations();

const server = createServer(toNodeHandler(betterAuth(options)));
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on ${options.baseURL}\n`);
});
