import { isAbsolute } from 'node:path';
/** A parsed `portcullis` command: what the CLI sends to the data dir's owner, or runs itself. */
export type Command =
  | { kind: 'migrate' }
  | {
      kind: 'org create';
      slug: string;
      name: string;
      adminEmail: string;
      adminName: string | null;
      adminPassword: string;
    }
  | {
      kind: 'user create';
      org: string;
      email: string;
      name: string;
      role: 'member' | 'admin';
      /** null makes an SSO user. */
      password: string | null;
    }
  | { kind: 'sessions revoke'; org: string; email: string | null }
  /** `file` is absolute: the owner that writes it may run in another working directory. */
  | { kind: 'backup'; file: string; includeKey: boolean }
  /** Never sent to an owner: a restore needs the data dir empty, so nobody may own it. */
  | { kind: 'restore'; file: string };

export const USE_PG_TOOLS =
  'on PostgreSQL, back up with pg_dump and restore with pg_restore (see README.md, "Backup and restore")';

/** What a command prints, line by line, and the exit code it ends with. */
export type CommandOutcome = { exitCode: number; stdout: string[]; stderr: string[] };

export function succeeded(line: string): CommandOutcome {
  return { exitCode: 0, stdout: [line], stderr: [] };
}

export function failed(line: string): CommandOutcome {
  return { exitCode: 1, stdout: [], stderr: [`portcullis: ${line}`] };
}

/** Reads a command that arrived as JSON over the control socket; null when it is not one. */
export function commandFromJson(value: unknown): Command | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const text = (key: string) => typeof v[key] === 'string';
  const textOrNull = (key: string) => v[key] === null || text(key);
  const has = (...keys: string[]) =>
    Object.keys(v).every((key) => key === 'kind' || keys.includes(key));
  switch (v.kind) {
    case 'migrate':
      return has() ? { kind: 'migrate' } : null;
    case 'org create':
      return has('slug', 'name', 'adminEmail', 'adminName', 'adminPassword') &&
        text('slug') &&
        text('name') &&
        text('adminEmail') &&
        textOrNull('adminName') &&
        text('adminPassword')
        ? (v as Command)
        : null;
    case 'user create':
      return has('org', 'email', 'name', 'role', 'password') &&
        text('org') &&
        text('email') &&
        text('name') &&
        (v.role === 'member' || v.role === 'admin') &&
        textOrNull('password')
        ? (v as Command)
        : null;
    case 'sessions revoke':
      return has('org', 'email') && text('org') && textOrNull('email') ? (v as Command) : null;
    case 'backup':
      return has('file', 'includeKey') &&
        text('file') &&
        isAbsolute(v.file as string) &&
        typeof v.includeKey === 'boolean'
        ? (v as Command)
        : null;
    default:
      return null;
  }
}
