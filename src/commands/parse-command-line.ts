import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';

export const USAGE = `Usage: portcullis <command>

  serve                                   start the server (default)
  migrate                                 bring the database schema up to date
  org create --slug S --name N --admin-email E [--admin-name N]
             (--admin-password P | --admin-password-stdin)
  user create --org S --email E --name N --role member|admin
             (--password P | --password-stdin | --sso)
  sessions revoke --org S [--email E]     end every session of the org, or of one user
  backup FILE [--include-key]             write a backup of the embedded database, while it serves
  restore FILE                            fill an empty data dir from a backup

Configuration comes from the environment (see README.md).`;

/** A malformed command line: exit 2, the reason, then the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Turns the arguments after `portcullis` into a command (every command but `serve` and `help`).
 * Every usage error is thrown before stdin is read; `readStdin` is called only for a `-stdin`
 * password.
 */
export async function parseCommandLine(
  argv: string[],
  readStdin: () => Promise<string>,
): Promise<Command> {
  const [command, subcommand, ...args] = argv;
  if (command === 'migrate') {
    parseArgs({ args: argv.slice(1), options: {} });
    return { kind: 'migrate' };
  }
  if (command === 'org' && subcommand === 'create') return orgCreate(args, readStdin);
  if (command === 'user' && subcommand === 'create') return userCreate(args, readStdin);
  if (command === 'sessions' && subcommand === 'revoke') return sessionsRevoke(args);
  if (command === 'backup') return backup(argv.slice(1));
  if (command === 'restore') return restore(argv.slice(1));
  throw new UsageError(`unknown command: ${[command, subcommand].filter(Boolean).join(' ')}`);
}

async function orgCreate(args: string[], readStdin: () => Promise<string>): Promise<Command> {
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
  const adminEmail = required(values['admin-email'], '--admin-email');
  const adminPassword = await passwordFrom(
    values['admin-password'],
    values['admin-password-stdin'],
    '--admin-password',
    readStdin,
  );
  return {
    kind: 'org create',
    slug,
    name,
    adminEmail,
    adminName: values['admin-name'] ?? null,
    adminPassword,
  };
}

async function userCreate(args: string[], readStdin: () => Promise<string>): Promise<Command> {
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
  const org = required(values.org, '--org');
  const email = required(values.email, '--email');
  const name = required(values.name, '--name');
  const role = required(values.role, '--role');
  if (role !== 'member' && role !== 'admin') throw new UsageError('--role is member or admin');
  if (values.sso && (values.password !== undefined || values['password-stdin'])) {
    throw new UsageError('an --sso user has no password');
  }
  const password = values.sso
    ? null
    : await passwordFrom(values.password, values['password-stdin'], '--password', readStdin);
  return { kind: 'user create', org, email, name, role, password };
}

function sessionsRevoke(args: string[]): Command {
  const { values } = parseArgs({
    args,
    options: { org: { type: 'string' }, email: { type: 'string' } },
  });
  return {
    kind: 'sessions revoke',
    org: required(values.org, '--org'),
    email: values.email ?? null,
  };
}

function backup(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { 'include-key': { type: 'boolean' } },
    allowPositionals: true,
  });
  return { kind: 'backup', file: oneFile(positionals), includeKey: values['include-key'] ?? false };
}

function restore(args: string[]): Command {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
  return { kind: 'restore', file: oneFile(positionals) };
}

function oneFile(positionals: string[]): string {
  if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('give one FILE');
  return resolve(positionals[0]!);
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

async function passwordFrom(
  inline: string | undefined,
  fromStdin: boolean | undefined,
  flag: string,
  readStdin: () => Promise<string>,
): Promise<string> {
  if (inline !== undefined && fromStdin)
    throw new UsageError(`give ${flag} or ${flag}-stdin, not both`);
  if (inline !== undefined) return inline;
  if (!fromStdin) throw new UsageError(`${flag} or ${flag}-stdin is required`);
  // One trailing newline is what `echo` and a terminal add; it is not part of the password.
  return (await readStdin()).replace(/\r?\n$/, '');
}
