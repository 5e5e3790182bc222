import { generateHOTP } from '@oslojs/otp';
import { encodeBase32NoPadding } from '@oslojs/encoding';
import { constantTimeEqual } from './tokens.ts';

/** RFC 6238 defaults, the only ones every authenticator app supports: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** ±1 step absorbs phone clock drift and the seconds it takes to type a code (RFC 6238 §5.2). */
export const TOTP_WINDOW_STEPS = 1;
/** 160 bits: RFC 4226 §4 recommends a shared secret of that length for HMAC-SHA-1. */
export const TOTP_SECRET_BYTES = 20;

export function totpStepAt(now: Date): bigint {
  return BigInt(Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS));
}

export function generateTotp(secret: Uint8Array, step: bigint): string {
  return generateHOTP(secret, step, TOTP_DIGITS);
}

/** Spaces and dashes that apps show or users type are ignored; anything else is a wrong code. */
export function normalizeTotpInput(input: string): string | null {
  const code = input.replace(/[\s-]/g, '');
  return /^[0-9]{6}$/.test(code) ? code : null;
}

/**
 * The step whose code matches, within ±1 step of now and strictly after lastUsedStep (a code is
 * accepted once: an equal or older step is a replay). Every step of the window is compared, in
 * constant time, whatever matched first. null when nothing valid matches.
 */
export function matchTotpStep(
  secret: Uint8Array,
  input: string,
  now: Date,
  lastUsedStep: bigint | null,
): bigint | null {
  const code = normalizeTotpInput(input);
  if (code === null) return null;
  const current = totpStepAt(now);
  let matched: bigint | null = null;
  for (let offset = -TOTP_WINDOW_STEPS; offset <= TOTP_WINDOW_STEPS; offset += 1) {
    const step = current + BigInt(offset);
    const equal = constantTimeEqual(generateTotp(secret, step), code);
    if (equal && matched === null && (lastUsedStep === null || step > lastUsedStep)) {
      matched = step;
    }
  }
  return matched;
}

/**
 * The otpauth:// URI of the Key Uri Format that Google Authenticator defined and every app reads.
 * Written here rather than taken from a library because issuer and account must be
 * percent-encoded (%20), not form-encoded (+), or some apps show a literal "+".
 */
export function createTotpKeyUri(issuer: string, accountName: string, secret: Uint8Array): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  const query = [
    `secret=${encodeBase32NoPadding(secret)}`,
    `issuer=${encodeURIComponent(issuer)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

export function encodeTotpSecret(secret: Uint8Array): string {
  return encodeBase32NoPadding(secret);
}
