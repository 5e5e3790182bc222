import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import type { Series } from '../../lib/load.ts';
import { cloneUser, enableTotp, PASSWORD, SESSION_COOKIE, signUp, totpCode } from './accounts.ts';
import { createPeerClient, expectStatus, requireCookie, type PeerClient } from './client.ts';
import { createDatabase, dropDatabase } from './database.ts';
import { ensurePeerInstalled, installedVersion } from './install.ts';
import {
  checkPendingSignInShape,
  insertPendingSignIns,
  TWO_FACTOR_COOKIE,
} from './pending-sign-ins.ts';
import { acceptsReplayedTotp } from './replay.ts';
import {
  GET_SESSION_WARM_UP_PER_CONNECTION,
  getSessionLoad,
  SIGN_IN_WARM_UP_PER_CONNECTION,
  signInLoad,
  timedSeries,
  verifyTotpSeries,
  type LoadSettings,
  type Setup,
} from './scenarios.ts';
import { startPeerServer, type PeerServer } from './server-process.ts';
import type { PeerFigures } from '../../lib/peer.ts';

/**
 * Better Auth measured the way `npm run bench` measures Portcullis: the same three requests under
 * the same autocannon load, on its own PostgreSQL database, in one server process.
 */

const PEER_FOLDER = import.meta.dirname;
const DATABASE = 'bench_better_auth';
/** Users without 2FA that the sign-in load takes in turn. */
const SIGN_IN_USERS = 50;
/** Sessions that the get-session load takes in turn. */
const SESSIONS = 5;

export type MeasureOptions = LoadSettings & {
  postgresUrl: string;
  log?: (line: string) => void;
};

export async function measureBetterAuth(options: MeasureOptions): Promise<PeerFigures> {
  const log = options.log ?? (() => {});
  await ensurePeerInstalled(PEER_FOLDER, log);
  const version = installedVersion(PEER_FOLDER, 'better-auth');
  const databaseUrl = await createDatabase(options.postgresUrl, DATABASE);
  const secret = randomBytes(32).toString('base64url');
  const db = new pg.Client({ connectionString: databaseUrl });
  let server: PeerServer | undefined;
  try {
    log(`Better Auth ${version}: starting the server (migrations first)`);
    server = await startPeerServer({
      script: join(PEER_FOLDER, 'server.ts'),
      env: {
        DATABASE_URL: databaseUrl,
        BETTER_AUTH_SECRET: secret,
        NODE_ENV: 'production',
        BETTER_AUTH_TELEMETRY: '0',
      },
      log,
    });
    await db.connect();
    const setup = await seed(db, createPeerClient(server.baseUrl), secret, log);

    log('Better Auth: sign-in (password, no 2FA)');
    const signIn = await timedSeries('sign-in', options, {
      baseUrl: server.baseUrl,
      warmUpPerConnection: SIGN_IN_WARM_UP_PER_CONNECTION,
      next: signInLoad(server.baseUrl, setup),
    });
    log('Better Auth: verify-totp (pending 2FA sign-ins)');
    const verifyTotp = await verifyTotpSeries(options, server.baseUrl, setup);
    log('Better Auth: get-session');
    const getSession = await timedSeries('get-session', options, {
      baseUrl: server.baseUrl,
      warmUpPerConnection: GET_SESSION_WARM_UP_PER_CONNECTION,
      next: getSessionLoad(setup),
    });
    log('Better Auth: is a TOTP code accepted twice?');
    const replayed = await acceptsReplayedTotp(setup.client, setup.totpUser.email, setup.totpKey);

    return {
      name: 'Better Auth',
      version,
      signIn,
      verifyTotp,
      getSession,
      acceptsReplayedTotp: replayed,
      peakRssBytes: await server.peakRssBytes(),
    };
  } finally {
    await server?.stop();
    await db.end().catch(() => {});
    await dropDatabase(options.postgresUrl, DATABASE);
  }
}

async function seed(
  db: pg.Client,
  client: PeerClient,
  secret: string,
  log: (line: string) => void,
): Promise<Setup> {
  log('Better Auth: two users through the API, copies in SQL');
  const plain = await signUp(client, 'plain@bench.test');
  const withTotp = await signUp(client, 'totp@bench.test');
  const totpKey = await enableTotp(client, withTotp);
  await checkPendingSignInShape(db, client, secret, withTotp);

  const signInUsers = await cloneUser(
    db,
    plain.userId,
    SIGN_IN_USERS,
    (i) => `plain-${i}@bench.test`,
  );
  const checked = await cloneUser(db, withTotp.userId, 1, () => 'totp-check@bench.test');

  // A generated pending sign-in must end like a real one: 200, then a session for that user.
  const [pending] = await insertPendingSignIns(db, secret, checked.ids);
  const verified = await client.call(
    'POST',
    '/api/auth/two-factor/verify-totp',
    { code: totpCode(totpKey) },
    { [TWO_FACTOR_COOKIE]: pending! },
  );
  expectStatus(verified, 200, 'verify-totp of a generated pending sign-in');
  const verifiedSession = requireCookie(verified, SESSION_COOKIE, 'verify-totp of a generated one');
  await expectSessionOf(client, verifiedSession, checked.ids[0]!);

  const sessionCookies: string[] = [];
  for (const [index, email] of signInUsers.emails.slice(0, SESSIONS).entries()) {
    const answer = await client.call('POST', '/api/auth/sign-in/email', {
      email,
      password: PASSWORD,
    });
    expectStatus(answer, 200, `sign-in of the copied user ${email}`);
    const cookie = requireCookie(answer, SESSION_COOKIE, `sign-in of ${email}`);
    await expectSessionOf(client, cookie, signInUsers.ids[index]!);
    sessionCookies.push(cookie);
  }
  return {
    db,
    client,
    secret,
    totpKey,
    totpUser: withTotp,
    signInEmails: signInUsers.emails,
    sessionCookies,
  };
}

/** get-session answers 200 with a null body for an unknown cookie: check the user, not the status. */
async function expectSessionOf(client: PeerClient, cookie: string, userId: string): Promise<void> {
  const answer = await client.call('GET', '/api/auth/get-session', undefined, {
    [SESSION_COOKIE]: cookie,
  });
  expectStatus(answer, 200, 'get-session');
  const body = answer.body as { user?: { id?: string } } | null;
  if (body?.user?.id !== userId) {
    throw new Error(`get-session did not return user ${userId}: ${JSON.stringify(body)}`);
  }
}
