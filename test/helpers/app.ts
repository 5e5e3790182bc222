import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import { deriveServerKeys } from '../../src/core/secret-box.ts';
import { defaultSessionLifetimes } from '../../src/core/session-rules.ts';
import { createOrgWithAdmin, createUser } from '../../src/services/org/accounts.ts';
import type { ServiceDeps } from '../../src/services/deps.ts';
import { createPasswordHasher, type PasswordHasher } from '../../src/services/password/hasher.ts';
import { createSsoProviders } from '../../src/services/sso/client.ts';
import type { Store } from '../../src/store/db.ts';
import type { Org, User } from '../../src/store/schema.ts';
import { ManualClock } from './clock.ts';
import { RecordingMailer } from './mail.ts';

/** Cheap argon2id parameters for tests; the production parameters have a test of their own. */
let testHasher: Promise<PasswordHasher> | undefined;
export function cheapPasswordHasher(): Promise<PasswordHasher> {
  testHasher ??= createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  return testHasher;
}

export type TestApp = {
  app: FastifyInstance;
  deps: ServiceDeps;
  clock: ManualClock;
  logs: string[];
  mailer: RecordingMailer;
  close(): Promise<void>;
};

export async function createTestApp(
  store: Store,
  options: {
    baseUrl?: string;
    clock?: ManualClock;
    passwords?: PasswordHasher;
    /** As PORTCULLIS_SSO_ALLOW_LOOPBACK; on by default: the test identity provider is on loopback. */
    ssoAllowLoopback?: boolean;
    /** The server's master key (random by default): instances of one deployment share it. */
    masterKey?: Buffer;
  } = {},
): Promise<TestApp> {
  const clock = options.clock ?? new ManualClock();
  const mailer = new RecordingMailer();
  const deps: ServiceDeps = {
    db: store.db,
    clock,
    randomBytes,
    passwords: options.passwords ?? (await cheapPasswordHasher()),
    sessionLifetimes: defaultSessionLifetimes,
    keys: deriveServerKeys(options.masterKey ?? randomBytes(32)),
    mailer,
    publicUrl: new URL(options.baseUrl ?? 'http://portcullis.test'),
    ssoProviders: createSsoProviders({ allowLoopback: options.ssoAllowLoopback ?? true }),
  };
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({
    store,
    deps,
    config: {
      baseUrl: options.baseUrl ? new URL(options.baseUrl) : null,
      trustProxy: false,
      logLevel: 'info',
      redisUrl: null,
    },
    logStream,
  });
  return { app, deps, clock, logs, mailer, close: () => app.close() };
}

let orgCounter = 0;
/** A slug no other test in this process uses: tests share a store but never an org. */
export function uniqueSlug(prefix = 'org'): string {
  orgCounter += 1;
  return `${prefix}-${process.pid}-${orgCounter}-${randomBytes(3).toString('hex')}`;
}

export const ADMIN_PASSWORD = 'correct horse battery staple';
export const MEMBER_PASSWORD = 'member password 42';

export type SeededOrg = { org: Org; admin: User; member: User };

export async function seedOrg(deps: ServiceDeps, slug = uniqueSlug()): Promise<SeededOrg> {
  const created = await createOrgWithAdmin(
    deps,
    {
      slug,
      name: `Org ${slug}`,
      admin: { email: `admin@${slug}.test`, name: 'Ada Admin', password: ADMIN_PASSWORD },
    },
    null,
  );
  if (!created.ok) throw new Error(`seedOrg failed: ${created.error}`);
  const member = await createUser(
    deps,
    created.value.org,
    { email: `member@${slug}.test`, name: 'Mo Member', role: 'member', password: MEMBER_PASSWORD },
    { userId: null, origin: null },
  );
  if (!member.ok) throw new Error(`seedOrg failed: ${member.error}`);
  return { org: created.value.org, admin: created.value.admin, member: member.value };
}

export function sessionCookieOf(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'portcullis_session');
  if (!cookie) throw new Error(`no session cookie in a ${response.statusCode} answer`);
  return cookie.value;
}

export async function signIn(
  app: FastifyInstance,
  credentials: { org: string; email: string; password: string },
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: credentials,
  });
  if (response.statusCode !== 200) {
    throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  }
  return sessionCookieOf(response);
}

export function withSession(token: string) {
  return { cookie: `portcullis_session=${token}` };
}
