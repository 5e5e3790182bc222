import type { Kysely } from 'kysely';
import type { ServerKeys } from '../core/secret-box.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { RandomBytes } from '../core/tokens.ts';
import type { SessionLifetimes } from '../core/session-rules.ts';
import type { Database } from '../store/schema.ts';
import type { PasswordHasher } from './password/hasher.ts';
import type { SsoProviders } from './sso/client.ts';

export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

/** What every use case needs, passed in so that tests control time, randomness and storage. */
export type ServiceDeps = {
  db: Kysely<Database>;
  clock: Clock;
  randomBytes: RandomBytes;
  passwords: PasswordHasher;
  sessionLifetimes: SessionLifetimes;
  keys: ServerKeys;
  mailer: Mailer;
  /** Where users reach the console: the base of links in emails, never taken from a request. */
  publicUrl: URL;
  /** The identity providers' address rule, guarded fetch and discovery cache (one per instance). */
  ssoProviders: SsoProviders;
};

/** Who asked, for the audit log. */
export type RequestOrigin = { ip: string | null; userAgent: string | null };
