import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.ts';
import { waitForMail } from '../helpers/smtp.ts';
import * as OTPAuth from 'otpauth';
import type { Authenticator } from '../helpers/authenticator.ts';
import type { Client, Service } from './harness.ts';

/*
 * Helpers for the suites that send many requests at once: bursts of identical requests, many
 * sessions of one user, and members already enrolled in a method.
 */

/** What one answer said: its status and, for an error, its code. */
export type Answer = { status: number; error: string | undefined; body: unknown };

export async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  const error =
    body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : undefined;
  return { status: response.status, error, body };
}

/** Sends every request at once (they leave together, nothing awaits between them). */
export async function burst(requests: (() => Promise<Response>)[]): Promise<Answer[]> {
  return Promise.all(requests.map(async (send) => answerOf(await send())));
}

/** How many answers of each kind: "200", "401 invalid_code", "429 too_many_attempts"... */
export function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.error ? `${answer.status} ${answer.error}` : String(answer.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function successes(answers: Answer[]): number {
  return answers.filter((a) => a.status >= 200 && a.status < 300).length;
}

/** Every answer is one of the listed kinds ("200", "401 invalid_code", ...). */
export function assertOnlyKinds(answers: Answer[], kinds: string[]): void {
  for (const [kind, count] of Object.entries(tally(answers))) {
    assert.ok(kinds.includes(kind), `unexpected answer ${kind} (x${count}): ${show(answers)}`);
  }
}

export function show(answers: Answer[]): string {
  return JSON.stringify(tally(answers));
}

export type Member = { email: string; password: string; id: string };

/**
 * `count` sessions of one user that have passed the password, each on instance `i % instances`.
 * They sign in a few at a time: a sign-in is counted against the account's lock until it is
 * checked, so dozens of sign-ins in flight at once would meet that lock by design.
 */
export async function signInMany(
  service: Service,
  member: Member,
  count: number,
  instances = 1,
): Promise<Client[]> {
  const clients: Client[] = [];
  const batch = 5;
  for (let start = 0; start < count; start += batch) {
    const round = await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, async (_, k) => {
        const client = service.client((start + k) % instances);
        const response = await client.signIn(member.email, member.password);
        assert.equal(response.status, 200, await response.clone().text());
        return client;
      }),
    );
    clients.push(...round);
  }
  return clients;
}

/** Signs in and asserts the session waits for a second factor. */
export async function signInPending(service: Service, member: Member, i = 0): Promise<Client> {
  const client = service.client(i);
  const response = await client.signIn(member.email, member.password);
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { status: string };
  assert.equal(body.status, 'mfa_required');
  return client;
}

/** A new member who has turned on the authenticator app (the org's policy must be on). */
export async function totpMember(
  service: Service,
  admin: Client,
): Promise<Member & { authenticator: Authenticator; secret: string; recoveryCodes: string[] }> {
  const member = await service.createUser(admin);
  const client = service.client();
  const signedIn = await client.signIn(member.email, member.password);
  assert.equal(signedIn.status, 200, await signedIn.clone().text());
  const { authenticator, secret, recoveryCodes } = await client.enrollTotp();
  return { ...member, authenticator, secret, recoveryCodes };
}

/** A new member who has turned on emailed codes (the org's policy must be on). */
export async function emailMember(service: Service, admin: Client): Promise<Member> {
  const member = await service.createUser(admin);
  const client = service.client();
  const signedIn = await client.signIn(member.email, member.password);
  assert.equal(signedIn.status, 200, await signedIn.clone().text());
  const seen = service.mailCount(member.email);
  const setup = await client.post('/me/mfa/email/setup', {});
  assert.equal(setup.status, 202, await setup.clone().text());
  const code = await service.emailedCode(member.email, seen);
  const confirmed = await client.post('/me/mfa/email/confirm', { code });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
  const { recovery_codes: codes } = (await confirmed.json()) as { recovery_codes: string[] };
  for (const recoveryCode of codes) service.secrets.add(recoveryCode);
  return member;
}

/** Asks for a password reset link for `email` and returns the token the mail carries. */
export async function resetToken(service: Service, org: string, email: string): Promise<string> {
  const response = await service.client().post('/auth/password/forgot', { org, email });
  assert.equal(response.status, 202);
  const mail = await waitForMail(service.smtp, email, 'reset your password', 10_000);
  const token = /#token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
  assert.ok(token, 'the mail holds a reset link');
  service.secrets.add(token);
  return token;
}

/** The failure counter row for `key`, as the database holds it. */
export async function counterOf(
  db: Kysely<Database>,
  key: string,
): Promise<{ failures: number; locked: boolean } | undefined> {
  const row = await db
    .selectFrom('attempt_counters')
    .select(['failures', 'locked_until'])
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    failures: Number(row.failures),
    locked: row.locked_until !== null && row.locked_until.getTime() > Date.now(),
  };
}

/**
 * `count` distinct 6-digit codes that the authenticator with this secret does not show at any
 * step the server could accept during the next few minutes: wrong codes for certain.
 */
export function wrongTotpCodes(secret: string, count: number): string[] {
  const totp = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret.replace(/\s/g, '')),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  });
  const now = Date.now();
  const valid = new Set<string>();
  for (let step = -2; step <= 10; step += 1) {
    valid.add(totp.generate({ timestamp: now + step * 30_000 }));
  }
  const codes: string[] = [];
  for (let n = 123_456; codes.length < count; n += 7_919) {
    const code = String(n % 1_000_000).padStart(6, '0');
    if (!valid.has(code) && !codes.includes(code)) codes.push(code);
  }
  return codes;
}
