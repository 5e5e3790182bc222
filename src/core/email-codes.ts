import type { RandomBytes } from './tokens.ts';

/** An emailed code has 6 digits and is valid 5 minutes; at most 5 tries at one code. */
export const EMAIL_CODE_DIGITS = 6;
export const EMAIL_CODE_SECONDS = 5 * 60;
export const EMAIL_CODE_MAX_ATTEMPTS = 5;
/** At most one email per 30 s per user and purpose: the inbox is not a resource to flood. */
export const EMAIL_CODE_RESEND_SECONDS = 30;
/** And at most 10 an hour per user, all purposes together. */
export const EMAIL_CODES_PER_HOUR = 10;

const RANGE = 10 ** EMAIL_CODE_DIGITS;
// The largest multiple of RANGE below 2^32: values above it are drawn again, so every code is
// equally likely (no modulo bias).
const LIMIT = Math.floor(0x1_0000_0000 / RANGE) * RANGE;

export function generateEmailCode(randomBytes: RandomBytes): string {
  for (;;) {
    const value = randomBytes(4).readUInt32BE(0);
    if (value < LIMIT) return String(value % RANGE).padStart(EMAIL_CODE_DIGITS, '0');
  }
}

/** Spaces and dashes are ignored; anything but six ASCII digits is a wrong code. */
export function normalizeEmailCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '');
  return /^[0-9]{6}$/.test(code) ? code : null;
}

/** Seconds until another code may be sent, 0 when one may be sent now. */
export function resendWaitSeconds(lastSentAt: Date | null, now: Date): number {
  if (lastSentAt === null) return 0;
  const elapsedMs = now.getTime() - lastSentAt.getTime();
  return Math.max(0, Math.ceil((EMAIL_CODE_RESEND_SECONDS * 1000 - elapsedMs) / 1000));
}

/** Seconds until another code may be sent under the hourly cap, 0 when under it. */
export function hourlyWaitSeconds(
  sentInLastHour: number,
  oldestInLastHour: Date | null,
  now: Date,
) {
  if (sentInLastHour < EMAIL_CODES_PER_HOUR || oldestInLastHour === null) return 0;
  return Math.max(1, Math.ceil((oldestInLastHour.getTime() + 3600_000 - now.getTime()) / 1000));
}
