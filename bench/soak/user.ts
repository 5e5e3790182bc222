import { generateTotp, totpStepAt } from '../../src/core/totp.ts';
import type { SoakClient } from './client.ts';
import { MAIL_WAIT_MS, type Mailbox } from './mailbox.ts';
import { ORG, PASSWORD, SESSIONS_PER_USER } from './settings.ts';

/** A user the soak signs in as, and the steps the seeding and the lanes share. */

export type SoakUser = {
  email: string;
  /** The TOTP key, for a user whose second factor is an authenticator. */
  totp?: Uint8Array;
  /** The last TOTP step used: the server refuses a step twice. */
  lastStep: bigint;
  recoveryCodes: string[];
  sessions: string[];
  lastEmailAt: number;
};

export function newUser(email: string): SoakUser {
  return { email, lastStep: -1n, recoveryCodes: [], sessions: [], lastEmailAt: 0 };
}

/** The code of the next step not used yet, if the authenticator has one now (current or next). */
export function nextTotpCode(user: SoakUser): string | null {
  if (!user.totp) return null;
  const current = totpStepAt(new Date());
  const step = user.lastStep + 1n > current ? user.lastStep + 1n : current;
  if (step > current + 1n) return null;
  user.lastStep = step;
  return generateTotp(user.totp, step);
}

/** The password step; returns the session it opens. */
export async function signIn(client: SoakClient, email: string): Promise<string> {
  const answer = await client.request('sign-in', 200, 'POST', '/auth/login', {
    body: { org: ORG, email, password: PASSWORD },
  });
  return answer.session!;
}

/** Keeps a new session, logging out the oldest beyond SESSIONS_PER_USER. */
export async function keepSession(
  client: SoakClient,
  user: SoakUser,
  session: string,
): Promise<void> {
  user.sessions.push(session);
  if (user.sessions.length <= SESSIONS_PER_USER) return;
  await client.request('logout', 204, 'POST', '/auth/logout', {
    body: {},
    session: user.sessions.shift(),
  });
}

/** The code mailed to the user after `seen` earlier ones; a lost mail counts as an error. */
export async function mailedCode(
  client: SoakClient,
  mailbox: Mailbox,
  email: string,
  seen: number,
): Promise<string> {
  const code = await mailbox.nextCode(email, seen);
  if (code === null) throw client.failure(`no code mail to ${email} in ${MAIL_WAIT_MS / 1000} s`);
  return code;
}
