import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD, TOTP_PERIOD_IN_SECONDS, totpCode } from './accounts.ts';
import { expectStatus, requireCookie, type PeerClient } from './client.ts';
import { TWO_FACTOR_COOKIE } from './pending-sign-ins.ts';

/** Room left in the current step for two requests, so both surely land in the same step. */
const MIN_SECONDS_LEFT_IN_STEP = 5;

/**
 * Whether Better Auth accepts one TOTP code twice for the same user within its step: two real
 * password sign-ins of the user, both waiting for a code, each answered with the same code.
 */
export async function acceptsReplayedTotp(
  client: PeerClient,
  email: string,
  key: Uint8Array,
): Promise<boolean> {
  const pending: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const answer = await client.call('POST', '/api/auth/sign-in/email', {
      email,
      password: PASSWORD,
    });
    expectStatus(answer, 200, 'sign-in before the replay check');
    pending.push(requireCookie(answer, TWO_FACTOR_COOKIE, 'sign-in before the replay check'));
  }

  const periodMs = TOTP_PERIOD_IN_SECONDS * 1000;
  const leftMs = periodMs - (Date.now() % periodMs);
  if (leftMs < MIN_SECONDS_LEFT_IN_STEP * 1000) await sleep(leftMs + 100);
  const step = Math.floor(Date.now() / periodMs);
  const code = totpCode(key);

  const verify = (cookie: string) =>
    client.call(
      'POST',
      '/api/auth/two-factor/verify-totp',
      { code },
      { [TWO_FACTOR_COOKIE]: cookie },
    );
  const first = await verify(pending[0]!);
  expectStatus(first, 200, 'first use of the code in the replay check');
  const second = await verify(pending[1]!);
  if (Math.floor(Date.now() / periodMs) !== step) {
    throw new Error('the replay check crossed a TOTP step; run it again');
  }
  return second.status === 200;
}
