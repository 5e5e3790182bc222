import { fail, ok, type Result } from './errors.ts';
import {
  EMAIL_MAX_CHARACTERS,
  NAME_MAX_CHARACTERS,
  PASSWORD_MAX_CHARACTERS,
  PASSWORD_MIN_CHARACTERS,
  SLUG_MAX_CHARACTERS,
} from './limits.ts';

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// Deliberately loose: the only real proof of an address is a message that arrives.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function parseSlug(raw: string): Result<string, 'invalid_slug'> {
  const slug = raw.trim().toLowerCase();
  if (slug.length < 2 || slug.length > SLUG_MAX_CHARACTERS || !SLUG_PATTERN.test(slug)) {
    return fail('invalid_slug');
  }
  return ok(slug);
}

/** Emails keep the case they were given in; uniqueness and lookup use the lowercase form. */
export function parseEmail(raw: string): Result<string, 'invalid_email'> {
  const email = raw.trim().normalize('NFC');
  if (email.length > EMAIL_MAX_CHARACTERS || !EMAIL_PATTERN.test(email)) {
    return fail('invalid_email');
  }
  return ok(email);
}

export function emailKey(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

export function parseName(raw: string): Result<string, 'invalid_name'> {
  const name = raw.trim().normalize('NFC');
  if (name.length === 0 || name.length > NAME_MAX_CHARACTERS) return fail('invalid_name');
  return ok(name);
}

/**
 * NIST SP 800-63B-4: any Unicode is allowed, normalized (NFKC) so that the same password typed
 * on two keyboards hashes the same; length is counted in code points, not UTF-16 units.
 */
export function normalizePassword(raw: string): string {
  return raw.normalize('NFKC');
}

export function parseNewPassword(
  raw: string,
): Result<string, 'weak_password' | 'password_too_long'> {
  const password = normalizePassword(raw);
  const length = [...password].length;
  if (length < PASSWORD_MIN_CHARACTERS) return fail('weak_password');
  if (length > PASSWORD_MAX_CHARACTERS) return fail('password_too_long');
  return ok(password);
}
