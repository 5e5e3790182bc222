import { randomBytes } from 'node:crypto';
import { databaseUrl } from './lib/database.ts';
import { startServer, type PortcullisServer, type ServerOptions } from './lib/server.ts';
import { createClient } from './soak/client.ts';
import { dropSoakDatabase, recreateSoakDatabase } from './soak/database.ts';
import { runLanes } from './soak/lanes.ts';
import { startMailbox } from './soak/mailbox.ts';
import { formatRss, printSummary, readRss, startPeriodicReport } from './soak/report.ts';
import { readSetupToken, seed } from './soak/seed.ts';
import { AUTH_RATE_LIMIT, POSTGRES_URL, SOAK_DATABASE, SOAK_MINUTES } from './soak/settings.ts';

/*
 * Soak: two instances on one PostgreSQL under a mixed load (sign-in with TOTP, emailed codes or
 * recovery codes, GET /me, step-up, logout, the admin's users list) for SOAK_MINUTES (10 by
 * default). Every 30 s it prints requests, errors and each server's resident memory; at the end,
 * the totals and the memory growth. Any unexpected status or network error is an error, and the
 * script exits with 1 if there was one. Not part of CI:
 *
 *   SOAK_MINUTES=10 node bench/soak.ts
 *
 * SOAK_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres) names the server; the script
 * works in a database of its own, portcullis_soak, made afresh and dropped at the end.
 */

async function main(): Promise<number> {
  console.log(`soak: ${SOAK_MINUTES} min, two instances on ${SOAK_DATABASE}`);
  await recreateSoakDatabase();
  const mailbox = await startMailbox();
  const options: ServerOptions = {
    databaseUrl: databaseUrl(POSTGRES_URL, SOAK_DATABASE),
    encryptionKey: randomBytes(32).toString('base64'),
    authRateLimit: AUTH_RATE_LIMIT,
    smtpUrl: mailbox.url,
  };
  const servers: PortcullisServer[] = [];
  try {
    servers.push(await startServer(options));
    const setupToken = await readSetupToken(servers[0]!);
    servers.push(await startServer(options));
    const baseUrls = servers.map((server) => server.baseUrl);
    const seeded = await seed(createClient(baseUrls), mailbox, setupToken);

    // A client of its own: the load's tally leaves out the seeding's requests.
    const client = createClient(baseUrls);
    const start = await readRss(servers);
    const began = Date.now();
    console.log(
      `seeded ${seeded.users.length} users; pids ${servers.map((s) => s.pid).join(', ')}`,
    );
    console.log(`   0s  rss ${formatRss(start)}`);
    const report = startPeriodicReport(servers, client.tally, began);
    await runLanes(client, mailbox, seeded, began + SOAK_MINUTES * 60_000);
    report.stop();

    const end = await readRss(servers);
    printSummary(client.tally, (Date.now() - began) / 1000, { start, warm: report.warm(), end });
    return client.tally.errors > 0 ? 1 : 0;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await mailbox.close();
    await dropSoakDatabase();
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 2;
});
