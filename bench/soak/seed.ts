import { setTimeout as sleep } from 'node:timers/promises';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import type { PortcullisServer } from '../lib/server.ts';
import type { SoakClient } from './client.ts';
import type { Mailbox } from './mailbox.ts';
import { ADMIN_EMAIL, EMAIL_USERS, ORG, PASSWORD, TOTP_USERS } from './settings.ts';
import { mailedCode, newUser, nextTotpCode, signIn, type SoakUser } from './user.ts';

/** The first start prints a one-time setup link once it listens. */
const SETUP_LINK_WAIT_MS = 30_000;

export async function readSetupToken(server: PortcullisServer): Promise<string> {
  const deadline = Date.now() + SETUP_LINK_WAIT_MS;
  for (;;) {
    const token = /\/setup#token=([A-Za-z0-9_-]+)/.exec(server.output())?.[1];
    if (token) return token;
    if (Date.now() > deadline) throw new Error(`no setup link:\n${server.output()}`);
    await sleep(50);
  }
}

/**
 * Through the API: the org and its admin, the users, the org's MFA policy, then each user's
 * second factor (TOTP or emailed codes) with its recovery codes. Returns the admin's session.
 */
export async function seed(
  client: SoakClient,
  mailbox: Mailbox,
  setupToken: string,
): Promise<{ admin: string; users: SoakUser[] }> {
  await client.request('setup', 201, 'POST', '/setup', {
    instance: 0,
    body: {
      token: setupToken,
      org: { slug: ORG, name: 'Soak' },
      admin: { email: ADMIN_EMAIL, name: 'Admin', password: PASSWORD },
    },
  });
  let admin = await signIn(client, ADMIN_EMAIL);
  const users: SoakUser[] = [];
  for (let n = 0; n < TOTP_USERS + EMAIL_USERS; n += 1) {
    const email = `${n < TOTP_USERS ? 'totp' : 'email'}${n}@soak.test`;
    const body = { email, name: `User ${n}`, role: 'member', password: PASSWORD };
    await client.request('create user', 201, 'POST', '/org/users', { body, session: admin });
    users.push(newUser(email));
  }
  await client.request('policy', 200, 'PUT', '/org/mfa/policy', {
    body: { policy: 'enabled', sessions: 'keep' },
    session: admin,
  });
  admin = await signIn(client, ADMIN_EMAIL);
  for (const user of users) {
    const session = await signIn(client, user.email);
    if (user.email.startsWith('totp')) await enrollTotp(client, user, session);
    else await enrollEmail(client, mailbox, user, session);
  }
  return { admin, users };
}

async function enrollTotp(client: SoakClient, user: SoakUser, session: string): Promise<void> {
  const setup = await client.request('totp setup', 200, 'POST', '/me/mfa/totp/setup', {
    body: {},
    session,
  });
  user.totp = decodeBase32IgnorePadding(setup.body.secret as string);
  const confirm = await client.request('totp confirm', 200, 'POST', '/me/mfa/totp/confirm', {
    body: { code: nextTotpCode(user)! },
    session,
  });
  user.recoveryCodes = confirm.body.recovery_codes as string[];
}

async function enrollEmail(
  client: SoakClient,
  mailbox: Mailbox,
  user: SoakUser,
  session: string,
): Promise<void> {
  const seen = mailbox.received(user.email);
  await client.request('email setup', 202, 'POST', '/me/mfa/email/setup', { body: {}, session });
  const code = await mailedCode(client, mailbox, user.email, seen);
  const confirm = await client.request('email confirm', 200, 'POST', '/me/mfa/email/confirm', {
    body: { code },
    session,
  });
  user.recoveryCodes = confirm.body.recovery_codes as string[];
}
