import { errorMessages, type ErrorCode } from '../core/errors.ts';
import { emailKey, parseSlug } from '../core/validation.ts';
import type { Runtime } from '../runtime.ts';
import { createOrgWithAdmin, createUser } from '../services/org/accounts.ts';
import { invalidateOrgSessions, invalidateUserSessions } from '../services/session/sessions.ts';
import { findOrgBySlug } from '../store/orgs.ts';
import { findUserForLogin } from '../store/users.ts';
import { writeBackup } from './backup.ts';
import { failed, succeeded, type Command, type CommandOutcome } from './command.ts';

/**
 * Runs one command against an open runtime: the CLI's own when it holds the data dir, or the
 * server's when the CLI sent the command over the control socket. The same lines either way.
 */
export async function runCommand(runtime: Runtime, command: Command): Promise<CommandOutcome> {
  switch (command.kind) {
    case 'migrate':
      await runtime.store.migrate();
      return succeeded('schema is up to date');
    case 'org create':
      return orgCreate(runtime, command);
    case 'user create':
      return userCreate(runtime, command);
    case 'sessions revoke':
      return sessionsRevoke(runtime, command);
    case 'backup':
      return writeBackup(runtime, command);
    case 'restore':
      return failed('restore fills an empty data dir: it never runs in the data dir’s owner');
  }
}

async function orgCreate(
  { deps }: Runtime,
  command: Extract<Command, { kind: 'org create' }>,
): Promise<CommandOutcome> {
  const email = command.adminEmail;
  const created = await createOrgWithAdmin(
    deps,
    {
      slug: command.slug,
      name: command.name,
      admin: {
        email,
        name: command.adminName ?? email.split('@')[0] ?? email,
        password: command.adminPassword,
      },
    },
    null,
  );
  if (!created.ok) return refused(created.error);
  return succeeded(`created org ${created.value.org.slug} with admin ${created.value.admin.email}`);
}

async function userCreate(
  { deps }: Runtime,
  command: Extract<Command, { kind: 'user create' }>,
): Promise<CommandOutcome> {
  const org = await findOrg(deps.db, command.org);
  if (!org) return refused('org_not_found');
  const { email, name, role, password } = command;
  const created = await createUser(
    deps,
    org,
    { email, name, role, password },
    { userId: null, origin: null },
  );
  if (!created.ok) return refused(created.error);
  return succeeded(`created ${created.value.role} ${created.value.email} in ${org.slug}`);
}

async function sessionsRevoke(
  { deps }: Runtime,
  command: Extract<Command, { kind: 'sessions revoke' }>,
): Promise<CommandOutcome> {
  const org = await findOrg(deps.db, command.org);
  if (!org) return refused('org_not_found');
  const reason = 'operator';
  if (command.email === null) {
    await invalidateOrgSessions(deps, { orgId: org.id, actorUserId: null, reason });
    return succeeded(`ended every session of ${org.slug}`);
  }
  const found = await findUserForLogin(deps.db, org.slug, emailKey(command.email));
  if (!found) return refused('not_found');
  await invalidateUserSessions(deps, {
    orgId: org.id,
    userId: found.user.id,
    actorUserId: null,
    reason,
  });
  return succeeded(`ended every session of ${found.user.email}`);
}

async function findOrg(db: Runtime['deps']['db'], raw: string) {
  const slug = parseSlug(raw);
  return slug.ok ? findOrgBySlug(db, slug.value) : undefined;
}

/** A refusal the service decided: one line with the message and its stable code. */
function refused(code: ErrorCode): CommandOutcome {
  return failed(`${errorMessages[code]} (${code})`);
}
