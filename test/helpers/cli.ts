import assert from 'node:assert/strict';
import {
  getWithSession,
  postJson,
  sessionCookieFrom,
  type CliResult,
  type ServerProcess,
} from './process.ts';

/** What the CLI tests share: the acme accounts, the shapes of a command's outcome, and sessions. */

export const ACME_ADMIN = { email: 'a@acme.test', password: 'acme admin passphrase' };
export const ACME_MEMBER = { email: 'u@acme.test', password: 'member passphrase' };

/** The README's commands that make the acme org and its member (passwords on standard input). */
export const CREATE_ACME = [
  'org',
  'create',
  '--slug',
  'acme',
  '--name',
  'Acme',
  '--admin-email',
  ACME_ADMIN.email,
  '--admin-password-stdin',
];
export const CREATE_ACME_MEMBER = [
  'user',
  'create',
  '--org',
  'acme',
  '--email',
  ACME_MEMBER.email,
  '--name',
  'U',
  '--role',
  'member',
  '--password-stdin',
];

export function assertSucceeded(result: CliResult, stdout: string) {
  assert.deepEqual(
    { code: result.code, stdout: result.stdout, stderr: result.stderr },
    { code: 0, stdout: `${stdout}\n`, stderr: '' },
  );
}

/** A refusal the service decided: exit 1 and one line with the message and its code. */
export function assertRefused(result: CliResult, line: string) {
  assert.deepEqual(
    { code: result.code, stdout: result.stdout, stderr: result.stderr },
    { code: 1, stdout: '', stderr: `portcullis: ${line}\n` },
  );
}

/** Signs in through the server's API and returns the session cookie. */
export async function signIn(
  server: ServerProcess,
  org: string,
  email: string,
  password: string,
): Promise<string> {
  const response = await postJson(`${server.baseUrl}/api/v1/auth/login`, { org, email, password });
  assert.equal(response.status, 200, `${email} signs in`);
  const cookie = sessionCookieFrom(response);
  assert.ok(cookie, `${email} gets a session cookie`);
  return cookie;
}

/** The status GET /me answers for a session: 200 while it lives, 401 once it ended. */
export async function meStatus(server: ServerProcess, cookie: string): Promise<number> {
  const response = await getWithSession(`${server.baseUrl}/api/v1/me`, cookie);
  await response.arrayBuffer();
  return response.status;
}
