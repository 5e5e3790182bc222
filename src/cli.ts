import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { errorMessages, type ErrorCode } from './core/errors.ts';
import { emailKey, parseSlug } from './core/validation.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { serve } from './serve.ts';
import { createOrgWithAdmin, createUser } from './services/accounts.ts';
import { invalidateOrgSessions, invalidateUserSessions } from './services/sessions.ts';
import { findOrgBySlug } from './store/orgs.ts';
import { findUserForLogin } from './store/users.ts';

const USAGE = `Usage: portcullis <command>

  serve                                   start the server (default)
  migrate                                 bring the database schema up to date
  org create --slug S --name N --admin-email E [--admin-name N]
             (--admin-password P | --admin-password-stdin)
  user create --org S --email E --name N --role member|admin
             (--password P | --password-stdin | --sso)
  sessions revoke --org S [--email E]     end every session of the org, or of one user

Configuration comes from the environment (see README.md).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', subcommand, ...rest] = argv;
  if (command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  if (command === 'serve') {
    await serve(config);
    return -1; // keeps running
  }
  if (command === 'migrate') {
    return withRuntime(config, async () => {
      say('schema is up to date');
      return 0;
    });
  }
  const args = rest;
  if (command === 'org' && subcommand === 'create') return orgCreate(config, args);
  if (command === 'user' && subcommand === 'create') return userCreate(config, args);
  if (command === 'sessions' && subcommand === 'revoke') return sessionsRevoke(config, args);
  throw new UsageError(`unknown command: ${[command, subcommand].filter(Boolean).join(' ')}`);
}

async function orgCreate(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      slug: { type: 'string' },
      name: { type: 'string' },
      'admin-email': { type: 'string' },
      'admin-name': { type: 'string' },
      'admin-password': { type: 'string' },
      'admin-password-stdin': { type: 'boolean' },
    },
  });
  const slug = required(values.slug, '--slug');
  const name = required(values.name, '--name');
  const email = required(values['admin-email'], '--admin-email');
  const password = await passwordFrom(
    values['admin-password'],
    values['admin-password-stdin'],
    '--admin-password',
  );
  return withRuntime(config, async ({ deps }) => {
    const adminName = values['admin-name'] ?? email.split('@')[0] ?? email;
    const created = await createOrgWithAdmin(
      deps,
      { slug, name, admin: { email, name: adminName, password } },
      null,
    );
    if (!created.ok) return refuse(created.error);
    say(`created org ${created.value.org.slug} with admin ${created.value.admin.email}`);
    return 0;
  });
}

async function userCreate(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      org: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      sso: { type: 'boolean' },
    },
  });
  const orgSlug = required(values.org, '--org');
  const email = required(values.email, '--email');
  const name = required(values.name, '--name');
  const role = required(values.role, '--role');
  if (role !== 'member' && role !== 'admin') throw new UsageError('--role is member or admin');
  const password = values.sso
    ? null
    : await passwordFrom(values.password, values['password-stdin'], '--password');
  if (values.sso && (values.password !== undefined || values['password-stdin'])) {
    throw new UsageError('an --sso user has no password');
  }
  return withRuntime(config, async ({ deps }) => {
    const org = await findOrgOrRefuse(deps.db, orgSlug);
    if (!org) return refuse('org_not_found');
    const created = await createUser(
      deps,
      org,
      { email, name, role, password },
      {
        userId: null,
        origin: null,
      },
    );
    if (!created.ok) return refuse(created.error);
    say(`created ${created.value.role} ${created.value.email} in ${org.slug}`);
    return 0;
  });
}

async function sessionsRevoke(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { org: { type: 'string' }, email: { type: 'string' } },
  });
  const orgSlug = required(values.org, '--org');
  return withRuntime(config, async ({ deps }) => {
    const org = await findOrgOrRefuse(deps.db, orgSlug);
    if (!org) return refuse('org_not_found');
    const reason = 'operator';
    if (values.email === undefined) {
      await invalidateOrgSessions(deps, { orgId: org.id, actorUserId: null, reason });
      say(`ended every session of ${org.slug}`);
      return 0;
    }
    const found = await findUserForLogin(deps.db, org.slug, emailKey(values.email));
    if (!found) return refuse('not_found');
    await invalidateUserSessions(deps, {
      orgId: org.id,
      userId: found.user.id,
      actorUserId: null,
      reason,
    });
    say(`ended every session of ${found.user.email}`);
    return 0;
  });
}

async function findOrgOrRefuse(db: Runtime['deps']['db'], raw: string) {
  const slug = parseSlug(raw);
  return slug.ok ? findOrgBySlug(db, slug.value) : undefined;
}

async function withRuntime(config: Config, run: (runtime: Runtime) => Promise<number>) {
  const runtime = await openRuntime(config);
  try {
    return await run(runtime);
  } finally {
    await runtime.store.close();
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

async function passwordFrom(
  inline: string | undefined,
  fromStdin: boolean | undefined,
  flag: string,
): Promise<string> {
  if (inline !== undefined && fromStdin)
    throw new UsageError(`give ${flag} or ${flag}-stdin, not both`);
  if (inline !== undefined) return inline;
  if (!fromStdin) throw new UsageError(`${flag} or ${flag}-stdin is required`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` and a terminal add; it is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function say(line: string) {
  process.stdout.write(`${line}\n`);
}

function refuse(code: ErrorCode): number {
  process.stderr.write(`portcullis: ${errorMessages[code]} (${code})\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      if (error instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
      process.exit(2);
    }
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`portcullis: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
