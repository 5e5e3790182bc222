import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakClient } from './client.ts';
import { emailLane } from './email-lane.ts';
import type { Mailbox } from './mailbox.ts';
import { THINK_MS, TOTP_USERS_PER_LANE } from './settings.ts';
import { totpLane } from './totp-lane.ts';
import type { SoakUser } from './user.ts';

/** The whole load until `until`: one TOTP lane per few TOTP users, one email lane, the admin. */
export async function runLanes(
  client: SoakClient,
  mailbox: Mailbox,
  seeded: { admin: string; users: SoakUser[] },
  until: number,
): Promise<void> {
  const totpUsers = seeded.users.filter((u) => u.totp);
  const emailUsers = seeded.users.filter((u) => !u.totp);
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < totpUsers.length; i += TOTP_USERS_PER_LANE) {
    lanes.push(totpLane(client, totpUsers.slice(i, i + TOTP_USERS_PER_LANE), until));
  }
  lanes.push(emailLane(client, mailbox, emailUsers, until));
  lanes.push(adminLane(client, seeded.admin, until));
  await Promise.all(lanes);
}

/** The admin's pages: the users list and the org's MFA settings. */
async function adminLane(client: SoakClient, admin: string, until: number): Promise<void> {
  while (Date.now() < until) {
    try {
      await client.request('list users', 200, 'GET', '/org/users?limit=50', { session: admin });
      await client.request('org mfa', 200, 'GET', '/org/mfa', { session: admin });
    } catch (error) {
      client.count(error);
    }
    await sleep(THINK_MS * 10);
  }
}
