import { fail, ok, type Result } from './errors.ts';
import {
  EMAIL_MAX_CHARACTERS,
  NAME_MAX_CHARACTERS,
  PASSWORD_MAX_CHARACTERS,
  PASSWORD_MIN_CHARACTERS,
  SLUG_MAX_CHARACTERS,
} from './limits.ts';

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/**
 * A bare mailbox, ASCII only: the local part is a dot-atom (RFC 5322 3.2.4) without quoted
 * strings, comments, display names, brackets, commas, semicolons or whitespace, which mail
 * libraries read as a name or a second address. `%` and `!` are refused too: mail servers still
 * route user%host and host!user by default for their own domains (Postfix's allow_percent_hack
 * and swap_bangpath). Non-ASCII letters are refused so that no lookalike of an address (a
 * Cyrillic "а") is a second account; an internationalized domain is entered in its xn-- form.
 */
const LOCAL_PART = /^[A-Za-z0-9#$&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9#$&'*+/=?^_`{|}~-]+)*$/;
/** RFC 5321 4.5.3.1.1. */
const LOCAL_PART_MAX_CHARACTERS = 64;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A last label of digits only would make an IP address (`a@1.2.3.4`), not a domain. */
const NUMERIC = /^[0-9]+$/;

export function parseSlug(raw: string): Result<string, 'invalid_slug'> {
  const slug = raw.trim().toLowerCase();
  if (slug.length < 2 || slug.length > SLUG_MAX_CHARACTERS || !SLUG_PATTERN.test(slug)) {
    return fail('invalid_slug');
  }
  return ok(slug);
}

/**
 * Emails keep the case they were given in; uniqueness and lookup use the lowercase form. Spaces
 * around the address (pasted from a spreadsheet) are trimmed; anything else is taken or refused
 * as it is, never repaired.
 */
export function parseEmail(raw: string): Result<string, 'invalid_email'> {
  const email = raw.trim();
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  const valid =
    at > 0 &&
    email.length <= EMAIL_MAX_CHARACTERS &&
    local.length <= LOCAL_PART_MAX_CHARACTERS &&
    LOCAL_PART.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    !NUMERIC.test(labels.at(-1)!);
  return valid ? ok(email) : fail('invalid_email');
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
