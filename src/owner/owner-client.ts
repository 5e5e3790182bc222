import { request } from 'node:http';
import type { Command, CommandOutcome } from '../commands/command.ts';
import { COMMANDS_PATH, OWNER_PATH, type OwnerRole } from './owner-channel.ts';

/** Who holds a data dir; null where it did not say (an unresponsive or foreign process). */
export type Holder = { pid: number | null; role: OwnerRole | null };

export type OwnerProbe =
  | { kind: 'owner'; holder: Holder }
  /** A socket file that nobody listens on: its process died. */
  | { kind: 'stale' }
  /** No socket file at all. */
  | { kind: 'gone' };

/** Long enough for an owner whose event loop is busy booting the embedded database. */
const IDENTITY_TIMEOUT_MS = 15_000;

/** Asks whoever listens on the control socket who it is. */
export async function probeOwner(socketPath: string): Promise<OwnerProbe> {
  const answer = await call(socketPath, 'GET', OWNER_PATH, undefined, IDENTITY_TIMEOUT_MS);
  if (answer.kind === 'unreachable') return { kind: answer.code === 'ENOENT' ? 'gone' : 'stale' };
  if (answer.kind === 'answered' && answer.status === 200) {
    const body = parseJson(answer.body) as { pid?: unknown; role?: unknown } | null;
    const pid = typeof body?.pid === 'number' ? body.pid : null;
    const role = body?.role === 'server' || body?.role === 'command' ? body.role : null;
    return { kind: 'owner', holder: { pid, role } };
  }
  // Something listens but does not answer as an owner does: it holds the data dir all the same.
  return { kind: 'owner', holder: { pid: null, role: null } };
}

export type SendResult =
  | { ok: true; outcome: CommandOutcome }
  /** Nobody took the connection: the owner ended meanwhile. Nothing ran. */
  | { ok: false; error: 'unreachable' }
  /** The connection broke, or the answer made no sense, after the command was sent. */
  | { ok: false; error: 'no_answer' };

/** Sends a command to the data dir's owner and returns what it printed. */
export async function sendCommand(socketPath: string, command: Command): Promise<SendResult> {
  const answer = await call(socketPath, 'POST', COMMANDS_PATH, JSON.stringify(command), null);
  if (answer.kind === 'unreachable') return { ok: false, error: 'unreachable' };
  if (answer.kind !== 'answered' || answer.status !== 200) return { ok: false, error: 'no_answer' };
  const outcome = parseJson(answer.body) as Partial<CommandOutcome> | null;
  if (
    typeof outcome?.exitCode !== 'number' ||
    !isLines(outcome.stdout) ||
    !isLines(outcome.stderr)
  ) {
    return { ok: false, error: 'no_answer' };
  }
  return { ok: true, outcome: outcome as CommandOutcome };
}

type Answer =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'unreachable'; code: string }
  | { kind: 'broken' };

/** Errors that mean the connection was never made, so the request never reached anyone. */
const NOT_CONNECTED = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

function call(
  socketPath: string,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number | null,
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            kind: 'answered',
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', () => resolve({ kind: 'broken' }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      resolve(NOT_CONNECTED.has(code) ? { kind: 'unreachable', code } : { kind: 'broken' });
    });
    if (timeoutMs !== null) req.setTimeout(timeoutMs, () => req.destroy());
    req.end(body);
  });
}

function isLines(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((line) => typeof line === 'string');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
