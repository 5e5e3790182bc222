import { sql, type Kysely, type RawBuilder } from 'kysely';
import * as OTPAuth from 'otpauth';
import { openStore } from '../../src/store/db.ts';
import type { Database } from '../../src/store/schema.ts';
import type { TestContext } from 'node:test';
import { codeIn, startSmtpServer, type ReceivedMail } from '../helpers/smtp.ts';
import type { Client, Service } from './harness.ts';

/*
 * What the crash suite needs beside the harness: an account as the test knows it (what the server
 * acknowledged, and what it may or may not have committed when it died), answers that tell "no
 * answer" apart from any status, and a look at the database exactly as a SIGKILL left it.
 */

/** The request was sent and no answer came back: the server may or may not have committed it. */
export class Unanswered extends Error {
  override name = 'Unanswered';
}

/** The load was halted before this request left: it was never sent. */
export class Halted extends Error {
  override name = 'Halted';
}

export type Answer = { status: number; error: string | undefined; body: Record<string, unknown> };

/**
 * Sends one request and reads the whole answer. A request counts as acknowledged only once its
 * body is read: a status line without its body (recovery codes, say) is treated as no answer.
 */
export async function call(
  client: Client,
  method: string,
  path: string,
  body?: unknown,
  halted: () => boolean = () => false,
): Promise<Answer> {
  if (halted()) throw new Halted(`${method} ${path}`);
  let text: string;
  let status: number;
  try {
    const response = await client.request(method, path, body);
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new Unanswered(`${method} ${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  const error = typeof parsed.error === 'string' ? parsed.error : undefined;
  return { status, error, body: parsed };
}

export function kind(answer: Answer): string {
  return answer.error ? `${answer.status} ${answer.error}` : String(answer.status);
}

/**
 * An authenticator app that never waits: it offers the code of the current step or the next one
 * (the server accepts one step early), whichever is newer than the last code it gave, or nothing.
 */
export class Totp {
  readonly secret: string;
  private lastStep = -1;
  private readonly totp: OTPAuth.TOTP;

  constructor(secret: string) {
    this.secret = secret;
    this.totp = new OTPAuth.TOTP({
      secret: OTPAuth.Secret.fromBase32(secret),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
  }

  available(): boolean {
    return this.lastStep < Math.floor(Date.now() / 30_000) + 1;
  }

  codeNow(): string | null {
    const current = Math.floor(Date.now() / 30_000);
    const step = Math.max(current, this.lastStep + 1);
    if (step > current + 1) return null;
    this.lastStep = step;
    return this.totp.generate({ timestamp: step * 30_000 + 1000 });
  }

  /** The next code, waiting for the clock when this step and the next are both used. */
  async nextCode(): Promise<string> {
    for (;;) {
      const code = this.codeNow();
      if (code) return code;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * A member or admin as the test knows them. Sets of recovery codes: `unused` were never sent,
 * `spent` were accepted (the server must refuse them from then on), `unsure` were sent without an
 * answer (either is right). A password change sent without an answer leaves `maybePassword`.
 */
export type Person = {
  id: string;
  email: string;
  password: string;
  maybePassword?: string;
  /** The password an acknowledged change replaced: the server must refuse it from then on. */
  oldPassword?: string;
  totp?: Totp;
  /** A TOTP code the server accepted: a replay must be refused. */
  acceptedTotpCode?: string;
  unused: string[];
  spent: string[];
  unsure: string[];
  /** Whether every recovery code this person was given is known to the test. */
  codesKnown: boolean;
  enrollment: 'none' | 'enrolled' | 'unknown';
  /** The setup of a confirmation that got no answer. */
  pendingTotp?: Totp;
  /** Enrolled by an acknowledged confirmation since the last check. */
  newlyEnrolled: boolean;
  /** In use by a lane: one request stream per person, as one browser would. */
  busy: boolean;
};

export function newPerson(user: { id: string; email: string; password: string }): Person {
  return {
    ...user,
    unused: [],
    spent: [],
    unsure: [],
    codesKnown: true,
    enrollment: 'none',
    newlyEnrolled: false,
    busy: false,
  };
}

export function canVerify(person: Person): boolean {
  return person.totp?.available() === true || person.unused.length > 0;
}

/** A code for this person's second step, TOTP when one is available now; null when none is. */
export function secondFactor(
  service: Service,
  person: Person,
): { method: 'totp' | 'recovery_code'; code: string } | null {
  const totpCode = person.totp?.codeNow();
  const code = totpCode ?? person.unused.pop();
  if (!code) return null;
  service.secrets.add(code);
  if (totpCode) return { method: 'totp', code };
  person.unsure.push(code);
  return { method: 'recovery_code', code };
}

/** The server accepted this code: a recovery code becomes spent, a TOTP code must not replay. */
export function accepted(person: Person, factor: { method: string; code: string }): void {
  if (factor.method === 'totp') {
    person.acceptedTotpCode = factor.code;
    return;
  }
  person.unsure = person.unsure.filter((code) => code !== factor.code);
  person.spent.push(factor.code);
}

/** The test's own SMTP server: the kill may land while the server sends a code, and that is fine. */
export async function startMailbox(t: TestContext): Promise<Mailbox> {
  return startSmtpServer(t);
}

export type Mailbox = { url: string; received: ReceivedMail[] };

function codeMailsTo(mailbox: Mailbox, address: string): ReceivedMail[] {
  return mailbox.received.filter(
    (mail) =>
      mail.envelope.to.includes(address) &&
      (mail.headers.get('subject') ?? '').includes('your verification code'),
  );
}

/** The newest verification code mailed to `address` after `seen` of them, unless halted first. */
export async function mailedCode(
  service: Service,
  mailbox: Mailbox,
  address: string,
  seen: number,
  halted: () => boolean,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = codeMailsTo(mailbox, address);
    if (mails.length > seen) {
      const code = codeIn(mails[mails.length - 1]);
      service.secrets.add(code);
      return code;
    }
    if (halted()) throw new Halted(`the code mail to ${address}`);
    if (Date.now() > deadline) throw new Error(`no code mail to ${address} in ${timeoutMs} ms`);
    await sleep(10);
  }
}

export function codeMailCount(mailbox: Mailbox, address: string): number {
  return codeMailsTo(mailbox, address).length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * SIGKILLs instance 0, runs `inspect` on the database exactly as the kill left it (before any new
 * process has opened it: on PGlite that means opening the data dir here, since it belongs to one
 * process), then starts the server again on the same data.
 */
export async function crashInspectRestart<T>(
  service: Service,
  inspect: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const victim = service.instances[0]!;
  victim.kill();
  await victim.ended();
  const databaseUrl = service.environment.DATABASE_URL;
  const store = databaseUrl
    ? await openStore({ kind: 'postgres', url: databaseUrl, poolSize: 2 })
    : await openStore({ kind: 'pglite', dataDir: service.dataDir(0) });
  let result: T;
  try {
    result = await inspect(store.db);
  } finally {
    await store.close();
  }
  // The harness's crash-and-restart on a process already dead only restarts it.
  await service.crashAndRestart(0);
  return result;
}

/**
 * Rows that only a half-done write could leave, beside the shared invariants: each query names
 * the users (or orgs) that break one rule.
 */
export const halfDoneQueries: Record<string, RawBuilder<{ id: string }>> = {
  'an active factor without its set of 10 recovery codes': sql<{
    id: string;
  }>`select u.id from users u
    where exists (select 1 from factors f where f.user_id = u.id and f.state = 'active')
    and (select count(*) from recovery_codes r where r.user_id = u.id) <> 10`,
  'recovery codes (used or not) for a user with no active factor': sql<{
    id: string;
  }>`select distinct r.user_id
    as id from recovery_codes r where not exists
    (select 1 from factors f where f.user_id = r.user_id and f.state = 'active')`,
  'a pending factor marked as activated or used': sql<{ id: string }>`select id from factors
    where state = 'pending' and (activated_at is not null or last_used_step is not null)`,
  'an active TOTP factor with no activation time or no used step': sql<{
    id: string;
  }>`select id from factors
    where state = 'active' and type = 'totp'
    and (activated_at is null or last_used_step is null)`,
  'an active factor with no mfa.enrolled audit event': sql<{
    id: string;
  }>`select f.id from factors f
    where f.state = 'active' and not exists (select 1 from audit_events a
    where a.type = 'mfa.enrolled' and a.target_user_id = f.user_id)`,
  'an org whose policy is not the one its last policy change recorded': sql<{
    id: string;
  }>`select o.id
    from orgs o join lateral (select a.details->>'to' as policy from audit_events a
    where a.org_id = o.id and a.type = 'org.mfa_policy_changed'
    order by a.created_at desc limit 1) last on true where last.policy <> o.mfa_policy`,
};

export async function halfDoneRows(db: Kysely<Database>): Promise<string[]> {
  const found: string[] = [];
  for (const [rule, query] of Object.entries(halfDoneQueries)) {
    const { rows } = await query.execute(db);
    if (rows.length > 0) found.push(`${rule}: ${rows.map((row) => row.id).join(', ')}`);
  }
  return found;
}

/** How many password changes the audit log records, per user id. */
export async function passwordChangesByUser(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('audit_events')
    .select(['target_user_id', (eb) => eb.fn.countAll<string>().as('count')])
    .where('type', '=', 'password.changed')
    .groupBy('target_user_id')
    .execute();
  return new Map(rows.map((row) => [row.target_user_id ?? '', Number(row.count)]));
}
