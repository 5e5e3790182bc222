import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers for tests that drive the real `portcullis` processes, as an operator would. */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** What `npm start` and `npm run portcullis` run. */
export const cliEntry = join(repoRoot, 'src', 'cli.ts');
/** What an installed `portcullis` command runs. */
export const binEntry = join(repoRoot, 'bin', 'portcullis.js');

/** Long enough for a PGlite boot on a busy CI machine, short enough to fail a hung test. */
const PROCESS_TIMEOUT_MS = 60_000;
/** Starts on a freshly chosen port before giving up, when another process took the port first. */
const PORT_ATTEMPTS = 3;

/** A port nobody listens on right now: bind port 0, read the number the system chose, release it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port was assigned');
  return address.port;
}

export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * The test's environment minus every setting Portcullis reads, plus the given ones: a CI job that
 * exports DATABASE_URL or PORT must not leak into a process that a test means to run on PGlite.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      name === 'PORT' ||
      name === 'HOST' ||
      name === 'DATABASE_URL' ||
      name === 'SMTP_URL' ||
      name === 'REDIS_URL' ||
      name === 'LOG_LEVEL' ||
      name === 'NODE_TEST_CONTEXT' ||
      name.startsWith('PORTCULLIS_')
    ) {
      continue;
    }
    env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Every child process still running. A test process can end with some up: a hook that failed
 * before it registered their stop, or --test-force-exit ending the run while a start was still
 * under way. They are killed with it, since an orphaned server holds its port and data dir for good.
 */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

function killedOnExit<Child extends ChildProcess>(child: Child): Child {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };
export type CliResult = Exit & { stdout: string; stderr: string };

/**
 * Runs one `portcullis` command to its end with the test's own Node (24): `bin/portcullis.js` by
 * default, or `src/cli.ts` as `npm run portcullis` does. stdin gets `stdin` and is then closed.
 */
export async function runCli(
  args: string[],
  options: { dataDir: string; stdin?: string; entry?: string; env?: Record<string, string> },
): Promise<CliResult> {
  const child = killedOnExit(
    spawn(process.execPath, [options.entry ?? binEntry, ...args], {
      cwd: repoRoot,
      env: childEnv({ PORTCULLIS_DATA_DIR: options.dataDir, ...options.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => {}); // a command that never reads stdin may close it first
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  try {
    const exit = await exitOf(child);
    return { ...exit, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': by then every byte of stdout and stderr has been read.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** A `portcullis serve` child process, started exactly as `npm start` starts it. */
export class ServerProcess {
  readonly port: number;
  readonly baseUrl: string;
  stdout = '';
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<Exit>;
  private readonly listeners = new Set<() => void>();

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    this.baseUrl = `http://localhost:${port}`;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const listener of this.listeners) listener();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = exitOf(child);
    void this.exited.then(() => {
      for (const listener of this.listeners) listener();
    });
  }

  /**
   * Starts the server on a free port and resolves once it listens. A port found free is free only
   * until something else binds it (another test file's connections use the same range) before the
   * server does; then the server is started again on another. A port the caller gives is kept.
   */
  static async start(options: {
    dataDir: string;
    port?: number;
    env?: Record<string, string>;
  }): Promise<ServerProcess> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await ServerProcess.startOn(options.port ?? (await freePort()), options);
      } catch (error) {
        const portTaken = error instanceof Error && error.message.includes('EADDRINUSE');
        if (options.port !== undefined || !portTaken || attempt === PORT_ATTEMPTS) throw error;
      }
    }
  }

  private static async startOn(
    port: number,
    options: { dataDir: string; env?: Record<string, string> },
  ): Promise<ServerProcess> {
    const child = killedOnExit(
      spawn(process.execPath, [cliEntry, 'serve'], {
        cwd: repoRoot,
        env: childEnv({
          PORTCULLIS_DATA_DIR: options.dataDir,
          PORT: String(port),
          ...options.env,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const server = new ServerProcess(child, port);
    try {
      await server.waitForOutput(/"msg":"Server listening at [^"]*"/);
    } catch (error) {
      server.kill();
      throw error;
    }
    return server;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the server process has no pid');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in stdout, now or once more output arrives. */
  waitForOutput(pattern: RegExp, timeoutMs = PROCESS_TIMEOUT_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stdout.match(pattern);
        if (match) return done(() => resolve(match));
        if (!this.running) {
          done(() =>
            reject(
              new Error(
                `the server exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(new Error(`no ${pattern} in ${timeoutMs} ms\nstdout:\n${this.stdout}`)),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Sends a signal and waits for the process to end; SIGKILLs it after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = PROCESS_TIMEOUT_MS): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For `after` hooks and finally blocks: ends the process at once if it still runs. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** Waits until the process has ended (after `kill`, for instance). */
  async ended(): Promise<Exit> {
    return this.exited;
  }
}

/** The value of the session cookie that a response sets, or undefined. */
export function sessionCookieFrom(response: Response): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const match = /^portcullis_session=([^;]*)/.exec(header);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** POSTs JSON, as the console does. */
export function postJson(url: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(cookie ? { cookie: `portcullis_session=${cookie}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

export function getWithSession(url: string, cookie: string): Promise<Response> {
  return fetch(url, { headers: { cookie: `portcullis_session=${cookie}` } });
}
