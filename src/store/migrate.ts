import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import * as foundation from './migrations/0001-foundation.ts';
import * as mfa from './migrations/0002-mfa.ts';
import * as emailChallenges from './migrations/0003-email-challenges.ts';
import * as usersMfaEnrolled from './migrations/0004-users-mfa-enrolled.ts';
import * as passwordResetTokens from './migrations/0005-password-reset-tokens.ts';
import * as sso from './migrations/0006-sso.ts';
import * as ssoSubject from './migrations/0007-sso-subject.ts';
import * as expiryIndexes from './migrations/0008-expiry-indexes.ts';
import * as sessionFacts from './migrations/0009-session-facts.ts';
import * as factorMethods from './migrations/0010-factor-methods.ts';
import * as provider from './migrations/0011-provider.ts';

/** Migrations are listed here, in order, so that they ship inside the code with no file lookup. */
const migrations = {
  '0001-foundation': foundation,
  '0002-mfa': mfa,
  '0003-email-challenges': emailChallenges,
  '0004-users-mfa-enrolled': usersMfaEnrolled,
  '0005-password-reset-tokens': passwordResetTokens,
  '0006-sso': sso,
  '0007-sso-subject': ssoSubject,
  '0008-expiry-indexes': expiryIndexes,
  '0009-session-facts': sessionFacts,
  '0010-factor-methods': factorMethods,
  '0011-provider': provider,
};

export async function migrateToLatest(
  db: Kysely<any>,
  schema?: string,
): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  return migrator.migrateToLatest();
}

/** Runs every migration before `name`: how a test sets up the data that migration meets. */
export async function migrateBefore(db: Kysely<any>, name: string): Promise<MigrationResultSet> {
  const names = Object.keys(migrations).sort();
  const previous = names[names.indexOf(name) - 1];
  if (!previous) throw new TypeError(`no migration comes before ${name}`);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  return migrator.migrateTo(previous);
}
