import type { FastifyInstance } from 'fastify';
import * as OTPAuth from 'otpauth';
import type { ManualClock } from './clock.ts';
import { sessionCookieOf, withSession } from './app.ts';

/** Codes from an independent RFC 6238 implementation, as an authenticator app would show them. */
export function authenticatorCode(
  secretBase32: string,
  clock: ManualClock,
  stepOffset = 0,
): string {
  const totp = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secretBase32),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  });
  return totp.generate({ timestamp: clock.now().getTime() + stepOffset * 30_000 });
}

export type Enrolled = { secret: string; recoveryCodes: string[]; token: string };

/**
 * Sets up and confirms an authenticator app for the session's user. Returns the session token to
 * use afterwards (a new one when the session was in enrollment). Moves the clock one step on, so
 * that the next code the test asks for is not a replay of the confirmation code.
 */
export async function enrollTotp(
  app: FastifyInstance,
  token: string,
  clock: ManualClock,
  verification?: { method: string; code: string },
): Promise<Enrolled> {
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(token),
    payload: verification ? { verification } : {},
  });
  if (setup.statusCode !== 200) throw new Error(`setup: ${setup.statusCode} ${setup.body}`);
  const { secret } = setup.json();
  const confirm = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/confirm',
    headers: withSession(token),
    payload: { code: authenticatorCode(secret, clock) },
  });
  if (confirm.statusCode !== 200) throw new Error(`confirm: ${confirm.statusCode} ${confirm.body}`);
  const rotated = confirm.cookies.some((c) => c.name === 'portcullis_session');
  clock.advanceSeconds(30);
  return {
    secret,
    recoveryCodes: confirm.json().recovery_codes,
    token: rotated ? sessionCookieOf(confirm) : token,
  };
}

export async function setPolicy(
  app: FastifyInstance,
  adminToken: string,
  policy: 'enabled' | 'required',
  sessions: 'invalidate' | 'keep' = 'keep',
) {
  return app.inject({
    method: 'PUT',
    url: '/api/v1/org/mfa/policy',
    headers: withSession(adminToken),
    payload: { policy, sessions },
  });
}

export function verify(app: FastifyInstance, token: string, method: string, code: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/mfa/verify',
    headers: withSession(token),
    payload: { method, code },
  });
}
