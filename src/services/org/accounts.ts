import type { Kysely } from 'kysely';
import { fail, ok, type Failure, type Result, type Success } from '../../core/errors.ts';
import {
  emailKey,
  parseEmail,
  parseName,
  parseNewPassword,
  parseSlug,
} from '../../core/validation.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { insertOrg } from '../../store/orgs.ts';
import type { Database, Org, Role, User } from '../../store/schema.ts';
import { adminAddedMessage } from '../../mail/templates.ts';
import { findUserForLogin, insertUser, listOrgAdmins } from '../../store/users.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { notifyUser } from '../notify.ts';
import { checkStepUp, type StepUpFailure } from '../mfa/step-up.ts';
import type { VerificationInput } from '../mfa/verification.ts';

export type NewAccount = {
  email: string;
  name: string;
  role: Role;
  /** null makes an SSO user, who has no password. */
  password: string | null;
};

export type NewOrg = { slug: string; name: string; admin: Omit<NewAccount, 'role'> };

type AccountError =
  'invalid_email' | 'invalid_name' | 'weak_password' | 'password_too_long' | 'email_taken';

export type PreparedOrg = {
  slug: string;
  name: string;
  admin: Awaited<ReturnType<typeof prepareAccount>> & { ok: true };
};

type OrgError = AccountError | 'invalid_slug' | 'slug_taken';

/** Checks the input and hashes the admin's password: everything that needs no database. */
export async function prepareOrg(
  deps: ServiceDeps,
  input: NewOrg,
): Promise<Result<PreparedOrg, Exclude<OrgError, 'slug_taken'>>> {
  const slug = parseSlug(input.slug);
  if (!slug.ok) return slug;
  const name = parseName(input.name);
  if (!name.ok) return name;
  const admin = await prepareAccount(deps, { ...input.admin, role: 'admin' });
  if (!admin.ok) return admin;
  return ok({ slug: slug.value, name: name.value, admin });
}

/** Creates an org and its first admin in the caller's transaction: never an org without an admin. */
export async function insertOrgWithAdmin(
  tx: Kysely<Database>,
  prepared: PreparedOrg,
  now: Date,
  origin: RequestOrigin | null,
): Promise<Result<{ org: Org; admin: User }, 'slug_taken'>> {
  const org = await insertOrg(tx, { slug: prepared.slug, name: prepared.name, createdAt: now });
  if (!org) return fail('slug_taken');
  const user = await insertUser(tx, { ...prepared.admin.value, org_id: org.id, created_at: now });
  if (!user) throw new Error('a new org already had a user');
  await appendAuditEvent(tx, {
    type: 'org.created',
    orgId: org.id,
    actorUserId: user.id,
    targetUserId: user.id,
    ip: origin?.ip,
    userAgent: origin?.userAgent,
    details: { slug: org.slug },
    at: now,
  });
  return ok({ org, admin: user });
}

export async function createOrgWithAdmin(
  deps: ServiceDeps,
  input: NewOrg,
  origin: RequestOrigin | null,
): Promise<Result<{ org: Org; admin: User }, OrgError>> {
  const prepared = await prepareOrg(deps, input);
  if (!prepared.ok) return prepared;
  const now = deps.clock.now();
  return deps.db.transaction().execute((tx) => insertOrgWithAdmin(tx, prepared.value, now, origin));
}

export type Creator = { userId: string | null; origin: RequestOrigin | null };

/** An operator's `portcullis user create`: whoever runs the CLI already holds the database. */
export async function createUser(
  deps: ServiceDeps,
  org: Org,
  input: NewAccount,
  creator: Creator,
): Promise<Result<User, AccountError>> {
  const account = await prepareAccount(deps, input);
  if (!account.ok) return account;
  return insertAndAnnounce<never>(deps, org, account.value, creator, async () => ok(true));
}

/**
 * An admin creates a user from a session. A new admin is a sensitive action: with a stolen
 * session but without the admin's second factor, a thief could otherwise make an admin of their
 * own, enroll it, and pass every later step-up as that admin.
 */
export async function createUserAsAdmin(
  deps: ServiceDeps,
  context: SessionContext,
  input: NewAccount,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<Result<User, AccountError> | StepUpFailure> {
  const account = await prepareAccount(deps, input);
  if (!account.ok) return account;
  const creator = { userId: context.user.id, origin };
  return insertAndAnnounce(deps, context.org, account.value, creator, async (tx) => {
    if (account.value.role !== 'admin') return ok(true);
    // A taken email fails before the step-up, so that it does not spend the admin's code.
    if (await findUserForLogin(tx, context.org.slug, account.value.email_key)) {
      return fail('email_taken');
    }
    return checkStepUp(deps, tx, context, 'create_admin', verification, origin);
  });
}

type PreparedAccount = Extract<Awaited<ReturnType<typeof prepareAccount>>, { ok: true }>['value'];

/**
 * Inserts the user once `authorize` allows it, in one transaction with the audit event; after the
 * commit, every admin of the org hears of a new admin.
 */
async function insertAndAnnounce<F extends Failure>(
  deps: ServiceDeps,
  org: Org,
  account: PreparedAccount,
  creator: Creator,
  authorize: (tx: Kysely<Database>) => Promise<Success<unknown> | F>,
): Promise<Result<User, 'email_taken'> | F> {
  const now = deps.clock.now();
  const result = await userTransaction(deps.db, [creator.userId], async (tx) => {
    const allowed = await authorize(tx);
    if (!allowed.ok) return allowed;
    const admins = account.role === 'admin' ? await listOrgAdmins(tx, org.id) : [];
    const user = await insertUser(tx, { ...account, org_id: org.id, created_at: now });
    if (!user) return fail('email_taken');
    await recordUserCreated(tx, org, user, creator, now);
    return ok({ user, admins });
  });
  if (!result.ok) return result;
  const { user, admins } = result.value;
  const creatorEmail = admins.find((admin) => admin.id === creator.userId)?.email ?? null;
  for (const admin of admins) {
    notifyUser(deps, admin.email, adminAddedMessage(org.name, user, creatorEmail, now));
  }
  return ok(user);
}

async function prepareAccount(deps: ServiceDeps, input: NewAccount) {
  const email = parseEmail(input.email);
  if (!email.ok) return email;
  const name = parseName(input.name);
  if (!name.ok) return name;
  let passwordHash: string | null = null;
  if (input.password !== null) {
    const password = parseNewPassword(input.password);
    if (!password.ok) return password;
    passwordHash = await deps.passwords.hash(password.value);
  }
  return ok({
    email: email.value,
    email_key: emailKey(email.value),
    name: name.value,
    role: input.role,
    password_hash: passwordHash,
    sso: passwordHash === null,
  });
}

async function recordUserCreated(
  db: Kysely<Database>,
  org: Org,
  user: User,
  actor: Creator,
  now: Date,
) {
  await appendAuditEvent(db, {
    type: 'user.created',
    orgId: org.id,
    actorUserId: actor.userId,
    targetUserId: user.id,
    ip: actor.origin?.ip,
    userAgent: actor.origin?.userAgent,
    details: { role: user.role, sso: user.sso },
    at: now,
  });
}
