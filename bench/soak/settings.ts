/** What the soak reads from its environment, and the named figures that shape its load. */

export const SOAK_MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
export const POSTGRES_URL =
  process.env.SOAK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The soak works in a database of its own, made afresh and dropped at the end. */
export const SOAK_DATABASE = 'portcullis_soak';

export const REPORT_EVERY_MS = 30_000;
/** Every request comes from 127.0.0.1: the per-IP limit must not be what the soak measures. */
export const AUTH_RATE_LIMIT = 1_000_000;

export const ORG = 'soak';
export const PASSWORD = 'soak password 1';
export const ADMIN_EMAIL = 'admin@soak.test';
export const TOTP_USERS = 16;
export const EMAIL_USERS = 4;
/** Each TOTP user belongs to one virtual user, two per virtual user: codes never collide. */
export const TOTP_USERS_PER_LANE = 2;
/** Between two requests of one virtual user: a load that lasts, not a stress test. */
export const THINK_MS = 20;
/** Sessions a user keeps open at most; the oldest is logged out to make room. */
export const SESSIONS_PER_USER = 3;
/** Emailed codes: at most one send per 30 s per purpose and 10 an hour per user. */
export const EMAIL_SPACING_MS = Math.max(32_000, (SOAK_MINUTES * 60_000) / 8);
/** Recovery codes a user keeps back for sign-ins; below it, a step-up regenerates the set. */
export const RECOVERY_RESERVE = 3;
