import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakClient } from './client.ts';
import type { Mailbox } from './mailbox.ts';
import { EMAIL_SPACING_MS, THINK_MS } from './settings.ts';
import { keepSession, mailedCode, signIn, type SoakUser } from './user.ts';

/**
 * One virtual user over the email users until `until`: sign-in with an emailed code, spaced to
 * stay within the send limits, then GET /me with a kept session while no user may be sent one.
 */
export async function emailLane(
  client: SoakClient,
  mailbox: Mailbox,
  users: SoakUser[],
  until: number,
): Promise<void> {
  while (Date.now() < until) {
    const user = users.find((u) => Date.now() - u.lastEmailAt > EMAIL_SPACING_MS);
    try {
      if (user) await signInWithEmailCode(client, mailbox, user);
      else {
        const some = users.find((u) => u.sessions.length > 0);
        if (some) await client.request('me', 200, 'GET', '/me', { session: some.sessions[0] });
      }
    } catch (error) {
      client.count(error);
      if (user) user.sessions = [];
    }
    await sleep(THINK_MS * 5);
  }
}

async function signInWithEmailCode(
  client: SoakClient,
  mailbox: Mailbox,
  user: SoakUser,
): Promise<void> {
  const session = await signIn(client, user.email);
  const seen = mailbox.received(user.email);
  // Counted from the answer: the server dates the send at least as early as that.
  user.lastEmailAt = Date.now();
  await client.request('send email code', 202, 'POST', '/auth/verification/email', {
    body: {},
    session,
  });
  user.lastEmailAt = Date.now();
  const code = await mailedCode(client, mailbox, user.email, seen);
  const verified = await client.request('verify email', 200, 'POST', '/auth/mfa/verify', {
    body: { method: 'email', code },
    session,
  });
  await keepSession(client, user, verified.session!);
}
