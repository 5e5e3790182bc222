import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakClient } from './client.ts';
import { ORG, PASSWORD, RECOVERY_RESERVE, THINK_MS } from './settings.ts';
import { keepSession, nextTotpCode, type SoakUser } from './user.ts';

/**
 * One virtual user over a few TOTP users until `until`: sign-in, GET /me, step-up and logout,
 * at random, with a step-up first whenever a user runs short of recovery codes.
 */
export async function totpLane(client: SoakClient, users: SoakUser[], until: number) {
  while (Date.now() < until) {
    const user = users[randomInt(users.length)]!;
    try {
      await nextStep(client, user);
    } catch (error) {
      client.count(error);
      user.sessions = []; // start this user afresh
    }
    await sleep(THINK_MS);
  }
}

async function nextStep(client: SoakClient, user: SoakUser): Promise<void> {
  const dice = randomInt(100);
  const refill = user.recoveryCodes.length <= RECOVERY_RESERVE && user.sessions.length > 0;
  if (refill) return stepUp(client, user);
  if (user.sessions.length === 0 || dice < 30) return signInWithTotp(client, user);
  if (dice < 70) {
    await client.request('me', 200, 'GET', '/me', { session: user.sessions[0] });
  } else if (dice < 85) {
    await stepUp(client, user);
  } else {
    const session = user.sessions.splice(randomInt(user.sessions.length), 1)[0];
    await client.request('logout', 204, 'POST', '/auth/logout', { body: {}, session });
  }
}

/** Sign-in with the second step on the other instance, then GET /me; the session is kept. */
async function signInWithTotp(client: SoakClient, user: SoakUser): Promise<void> {
  const code = nextTotpCode(user);
  // A few recovery codes stay for when the authenticator has no fresh code; a step-up refills.
  const recovery =
    code || user.recoveryCodes.length <= RECOVERY_RESERVE ? undefined : user.recoveryCodes.pop();
  if (!code && !recovery) return;
  const first = randomInt(client.instanceCount);
  const started = await client.request('sign-in', 200, 'POST', '/auth/login', {
    instance: first,
    body: { org: ORG, email: user.email, password: PASSWORD },
  });
  const verification = code
    ? { method: 'totp', code }
    : { method: 'recovery_code', code: recovery };
  const verified = await client.request(
    `verify ${verification.method}`,
    200,
    'POST',
    '/auth/mfa/verify',
    { instance: (first + 1) % client.instanceCount, body: verification, session: started.session },
  );
  await client.request('me', 200, 'GET', '/me', { session: verified.session });
  await keepSession(client, user, verified.session!);
}

/** Regenerating recovery codes, a sensitive action: step-up with a TOTP code in the request. */
async function stepUp(client: SoakClient, user: SoakUser): Promise<void> {
  const session = user.sessions.at(-1);
  const code = nextTotpCode(user);
  if (!session || !code) return;
  const answer = await client.request('step-up', 200, 'POST', '/me/recovery-codes', {
    body: { verification: { method: 'totp', code } },
    session,
  });
  user.recoveryCodes = answer.body.recovery_codes as string[];
}
