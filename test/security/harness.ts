import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { openStore } from '../../src/store/db.ts';
import type { Database } from '../../src/store/schema.ts';
import { Authenticator } from '../helpers/authenticator.ts';
import { ServerProcess, makeTempDir, removeDir, sessionCookieFrom } from '../helpers/process.ts';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

/*
 * The black-box security suite drives real `portcullis serve` processes over HTTP, exactly as an
 * attacker on the network would: no `inject`, no store access except where a test checks what the
 * database holds afterwards. Email goes to a real SMTP server, so codes never pass through logs.
 *
 * Every server runs on PGlite in its own data dir by default, or, with
 * PORTCULLIS_TEST_DATABASE_URL, on a database of its own created on that PostgreSQL (several
 * instances then share it, as a deployment behind a load balancer would).
 */

export const TEST_DATABASE_URL = process.env.PORTCULLIS_TEST_DATABASE_URL;

/** Two instances on one database need PostgreSQL: PGlite belongs to a single process. */
export function skipWithoutPostgres(t: TestContext): boolean {
  if (TEST_DATABASE_URL) return false;
  t.skip('needs PORTCULLIS_TEST_DATABASE_URL: two instances share one PostgreSQL (CI sets it)');
  return true;
}

export const ADMIN = {
  email: 'ada@acme.test',
  name: 'Ada Admin',
  password: 'first admin passphrase',
};

export type ServiceOptions = {
  /** Server instances on the one database (more than one needs PostgreSQL). */
  instances?: number;
  /** Extra environment for every instance, e.g. PORTCULLIS_TRUST_PROXY or REDIS_URL. */
  env?: Record<string, string>;
  /**
   * Per-IP requests a minute on the auth routes. The suite signs in hundreds of times from
   * 127.0.0.1, so it is raised unless a test is about this very limit (the product default is 60).
   */
  authRateLimit?: number;
  orgSlug?: string;
};

/** A running Portcullis (one or more instances), its SMTP server and its first org and admin. */
export class Service {
  readonly instances: ServerProcess[] = [];
  readonly smtp: TestSmtpServer;
  readonly org: string;
  /**
   * Every password, code, token, TOTP secret and cookie the test has handled: at the end, none of
   * them may appear in anything a server process printed.
   */
  readonly secrets = new Set<string>();
  private readonly env: Record<string, string>;
  private readonly dataDirs: string[] = [];

  private constructor(smtp: TestSmtpServer, org: string, env: Record<string, string>) {
    this.smtp = smtp;
    this.org = org;
    this.env = env;
  }

  static async start(t: TestContext, options: ServiceOptions = {}): Promise<Service> {
    const count = options.instances ?? 1;
    if (count > 1 && !TEST_DATABASE_URL) throw new Error('several instances need PostgreSQL');
    const smtp = await startSmtpServer(t);
    const database = TEST_DATABASE_URL ? await createDatabase(TEST_DATABASE_URL) : undefined;
    const env: Record<string, string> = {
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'debug',
      PORTCULLIS_AUTH_RATE_LIMIT: String(options.authRateLimit ?? 100_000),
      PORTCULLIS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      // The test identity providers listen on loopback.
      PORTCULLIS_SSO_ALLOW_LOOPBACK: 'true',
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    };
    const service = new Service(smtp, options.orgSlug ?? 'acme', env);
    // Registered before the first instance starts; the data dirs and the database go even when
    // a stop or the secrets check fails.
    t.after(async () => {
      try {
        await service.stopAll();
        service.assertLogsHoldNoSecret();
      } finally {
        for (const dir of service.dataDirs) await removeDir(dir);
        await database?.drop();
      }
    });
    await service.startInstance();
    await service.createFirstOrg();
    for (let i = 1; i < count; i += 1) await service.startInstance();
    return service;
  }

  /** Base URL of instance `i`. */
  url(i = 0): string {
    const instance = this.instances[i];
    if (!instance) throw new Error(`no instance ${i}`);
    return instance.baseUrl;
  }

  /** A client without a session, talking to instance `i`. */
  client(i = 0): Client {
    return new Client(this, this.url(i));
  }

  /** Starts one more instance on the same database (or the same PGlite data dir, after a kill). */
  async startInstance(dataDir?: string): Promise<ServerProcess> {
    const dir = dataDir ?? (await makeTempDir('portcullis-security-'));
    if (!dataDir) this.dataDirs.push(dir);
    const server = await ServerProcess.start({ dataDir: dir, env: this.env });
    this.instances.push(server);
    return server;
  }

  /** SIGKILLs instance `i` and starts a new one on the same data; it takes the same index. */
  async crashAndRestart(i = 0): Promise<ServerProcess> {
    const old = this.instances[i];
    if (!old) throw new Error(`no instance ${i}`);
    old.kill();
    await old.ended();
    this.retired.push(old);
    const dataDir = this.dataDirs[i] ?? this.dataDirs[0]!;
    const server = await ServerProcess.start({ dataDir, env: this.env });
    this.instances[i] = server;
    return server;
  }

  /** Instances that were killed and replaced: their output still counts for the secrets check. */
  private readonly retired: ServerProcess[] = [];

  /**
   * Runs `inspect` on the service's database, as an operator with psql would. PGlite belongs to
   * one process, so there instance 0 is stopped for the look and started again on its port.
   */
  async inspectDatabase<T>(inspect: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const databaseUrl = this.env.DATABASE_URL;
    if (databaseUrl) {
      const store = await openStore({ kind: 'postgres', url: databaseUrl, poolSize: 2 });
      try {
        return await inspect(store.db);
      } finally {
        await store.close();
      }
    }
    const server = this.instances[0]!;
    await server.stop('SIGTERM', 10_000);
    this.retired.push(server);
    const store = await openStore({ kind: 'pglite', dataDir: this.dataDirs[0]! });
    try {
      return await inspect(store.db);
    } finally {
      await store.close();
      this.instances[0] = await ServerProcess.start({
        dataDir: this.dataDirs[0]!,
        port: server.port,
        env: this.env,
      });
    }
  }

  /** The data dir of instance `i` (on PGlite, the database itself: open it only while it is down). */
  dataDir(i = 0): string {
    const dir = this.dataDirs[i] ?? this.dataDirs[0];
    if (!dir) throw new Error('the service has no data dir');
    return dir;
  }

  /** Everything every instance printed so far. */
  logs(): string {
    return [...this.retired, ...this.instances].map((s) => `${s.stdout}\n${s.stderr}`).join('\n');
  }

  /** The environment every instance runs with (to start a process of one's own on the same data). */
  get environment(): Readonly<Record<string, string>> {
    return this.env;
  }

  /** The admin, signed in fully (the org starts with MFA disabled). */
  async admin(i = 0): Promise<Client> {
    const client = this.client(i);
    const response = await client.signIn(ADMIN.email, ADMIN.password);
    assert.equal(response.status, 200, await response.clone().text());
    return client;
  }

  /** A new member made by the admin, with a fresh password; returns a client not yet signed in. */
  async createUser(
    admin: Client,
    options: { role?: 'admin' | 'member'; email?: string; verification?: unknown } = {},
  ): Promise<{ email: string; password: string; id: string }> {
    const email = options.email ?? `user-${randomBytes(4).toString('hex')}@acme.test`;
    const password = `pw ${randomBytes(9).toString('base64url')}`;
    this.secrets.add(password);
    const response = await admin.post('/org/users', {
      email,
      name: 'Test User',
      role: options.role ?? 'member',
      password,
      // A new admin is a sensitive action: the acting admin's step-up, when MFA applies to them.
      ...(options.verification ? { verification: options.verification } : {}),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const body = (await response.json()) as { id?: string; user?: { id: string } };
    const id = body.id ?? body.user?.id;
    assert.ok(id, 'the created user has an id');
    return { email, password, id };
  }

  /** The org's MFA policy, set by a fully signed-in admin (strengthening keeps sessions). */
  async setPolicy(admin: Client, policy: 'enabled' | 'required'): Promise<void> {
    const response = await admin.put('/org/mfa/policy', { policy, sessions: 'keep' });
    assert.equal(response.status, 200, await response.clone().text());
  }

  /** The newest 6-digit code emailed to `address` after `seen` mails to it had arrived. */
  async emailedCode(address: string, seen: number, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let mails = this.mailsTo(address);
    while (mails.length <= seen) {
      if (Date.now() > deadline) throw new Error(`no new mail to ${address} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      mails = this.mailsTo(address);
    }
    const code = codeIn(mails[mails.length - 1]);
    this.secrets.add(code);
    return code;
  }

  /** How many code mails `address` has received so far (pass it to `emailedCode`). */
  mailCount(address: string): number {
    return this.mailsTo(address).length;
  }

  private mailsTo(address: string) {
    return this.smtp.received.filter((mail) => mail.envelope.to.includes(address));
  }

  async stopAll(): Promise<void> {
    for (const server of this.instances) await server.stop('SIGTERM', 10_000);
  }

  private async createFirstOrg(): Promise<void> {
    const first = this.instances[0]!;
    const [, token] = await first.waitForOutput(/\/setup#token=([A-Za-z0-9_-]+)/);
    const response = await fetch(`${first.baseUrl}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token,
        org: { slug: this.org, name: 'Acme Corp' },
        admin: ADMIN,
      }),
    });
    assert.equal(response.status, 201, await response.text());
    this.secrets.add(ADMIN.password);
  }

  /**
   * No secret the test handled appears in any server output. A 6-digit code only counts where it
   * stands alone, so that digits inside timestamps, durations and ids are not mistaken for one.
   */
  assertLogsHoldNoSecret(): void {
    const logs = this.logs();
    for (const secret of this.secrets) {
      if (secret.length < 6) continue;
      const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = /^\d+$/.test(secret)
        ? new RegExp(`(?<![0-9A-Za-z.])${escaped}(?![0-9A-Za-z])`)
        : new RegExp(escaped);
      assert.doesNotMatch(logs, pattern, 'a secret the test handled appears in the server logs');
    }
  }
}

/** One browser-like client: it keeps the session cookie that answers set, like a cookie jar. */
export class Client {
  cookie: string | undefined;
  readonly baseUrl: string;
  private readonly service: Service;

  constructor(service: Service, baseUrl: string) {
    this.service = service;
    this.baseUrl = baseUrl;
  }

  /** The same session (cookie) used against another instance. */
  on(i: number): Client {
    const other = new Client(this.service, this.service.url(i));
    other.cookie = this.cookie;
    return other;
  }

  /** Any request under /api/v1; a JSON body is sent as JSON, a string as it is. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(this.cookie ? { cookie: `portcullis_session=${this.cookie}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const cookie = sessionCookieFrom(response);
    if (cookie) {
      this.cookie = cookie;
      this.service.secrets.add(cookie);
    }
    return response;
  }

  get(path: string, headers?: Record<string, string>): Promise<Response> {
    return this.request('GET', path, undefined, headers);
  }

  post(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<Response> {
    return this.request('POST', path, body, headers);
  }

  put(path: string, body: unknown, headers?: Record<string, string>): Promise<Response> {
    return this.request('PUT', path, body, headers);
  }

  async signIn(email: string, password: string, org = this.service.org): Promise<Response> {
    this.service.secrets.add(password);
    return this.post('/auth/login', { org, email, password });
  }

  /** Starts TOTP enrollment and confirms it: the authenticator and the 10 recovery codes. */
  async enrollTotp(
    verification?: unknown,
  ): Promise<{ authenticator: Authenticator; secret: string; recoveryCodes: string[] }> {
    const setup = await this.post('/me/mfa/totp/setup', verification ? { verification } : {});
    assert.equal(setup.status, 200, await setup.clone().text());
    const { secret } = (await setup.json()) as { secret: string };
    this.service.secrets.add(secret);
    const authenticator = new Authenticator(secret);
    const code = await authenticator.nextCode();
    this.service.secrets.add(code);
    const confirmed = await this.post('/me/mfa/totp/confirm', { code });
    assert.equal(confirmed.status, 200, await confirmed.clone().text());
    const { recovery_codes: recoveryCodes } = (await confirmed.json()) as {
      recovery_codes: string[];
    };
    for (const recoveryCode of recoveryCodes) this.service.secrets.add(recoveryCode);
    return { authenticator, secret, recoveryCodes };
  }

  /** Sends a second-factor code for the pending session. */
  verify(method: string, code: string): Promise<Response> {
    this.service.secrets.add(code);
    return this.post('/auth/mfa/verify', { method, code });
  }
}

/** A database of its own on the test PostgreSQL, dropped (connections and all) at the end. */
async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `security_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
