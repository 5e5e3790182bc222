import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A `portcullis serve` child process, started as `npm start` starts it, on a port of its own. */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cliEntry = join(repoRoot, 'src', 'cli.ts');

/** The Node flags of `npm start` (its V8 memory limits), read from package.json so both agree. */
export async function startFlags(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const match = /^node (.*?)\s*src\/cli\.ts serve$/.exec(manifest.scripts.start);
  if (!match) throw new Error('package.json: the start script is not `node … src/cli.ts serve`');
  return match[1]!.split(/\s+/).filter(Boolean);
}
/** A cold start runs the migrations and loads every module; a busy machine may take a while. */
const START_TIMEOUT_MS = 60_000;
/**
 * Kept for the error message of a server that dies and for the setup link a first start prints:
 * the last part of its output is enough.
 */
const OUTPUT_TAIL_CHARACTERS = 8_000;

export type ServerOptions = {
  /** PostgreSQL; absent: the embedded PGlite in the data dir, as a server with no DATABASE_URL. */
  databaseUrl?: string;
  /** The data dir to use (and keep); a fresh one, removed at stop, when absent. */
  dataDir?: string;
  /** More Node flags after those of `npm start` (an `--import` for instance). */
  nodeArgs?: string[];
  /** Base64 of 32 bytes, shared by every instance (and by the bench's own seeding). */
  encryptionKey: string;
  /** The server's own default when absent. */
  poolSize?: number;
  authRateLimit: number;
  /** The SMTP server for the emails it sends; unset when absent. */
  smtpUrl?: string;
  /** Write a V8 CPU profile into this directory when the server exits. */
  cpuProfileDir?: string;
};

export type PortcullisServer = {
  baseUrl: string;
  pid: number;
  /** VmHWM: the most resident memory the process has had so far. */
  peakRssBytes(): Promise<number>;
  /** VmRSS: the resident memory of the process now. */
  rssBytes(): Promise<number>;
  /** The last part of what the server wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
};

export async function startServer(options: ServerOptions): Promise<PortcullisServer> {
  const port = await freePort();
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'portcullis-bench-')));
  const removeDataDir = () =>
    ownDataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve();
  const args = [
    ...(options.nodeArgs ?? []),
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
  ];
  const child = spawn(process.execPath, [...(await startFlags()), ...args, cliEntry, 'serve'], {
    cwd: repoRoot,
    env: serverEnv({
      ...(options.databaseUrl === undefined ? {} : { DATABASE_URL: options.databaseUrl }),
      ...(options.poolSize === undefined ? {} : { DATABASE_POOL_SIZE: String(options.poolSize) }),
      ...(options.smtpUrl === undefined ? {} : { SMTP_URL: options.smtpUrl }),
      PORT: String(port),
      PORTCULLIS_ENCRYPTION_KEY: options.encryptionKey,
      PORTCULLIS_AUTH_RATE_LIMIT: String(options.authRateLimit),
      PORTCULLIS_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-OUTPUT_TAIL_CHARACTERS);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    // At LOG_LEVEL=warn the server does not print that it listens: ask it instead.
    await waitUntilHealthy(baseUrl, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    await removeDataDir();
    throw error;
  }
  return {
    baseUrl,
    pid: child.pid!,
    peakRssBytes: () => statusBytes(child.pid!, 'VmHWM'),
    rssBytes: () => statusBytes(child.pid!, 'VmRSS'),
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      await removeDataDir();
    },
  };
}

/** The bench's environment minus every setting Portcullis reads, plus the given ones. */
function serverEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const portcullisSetting =
      name.startsWith('PORTCULLIS_') ||
      ['PORT', 'HOST', 'DATABASE_URL', 'DATABASE_POOL_SIZE', 'SMTP_URL', 'REDIS_URL'].includes(
        name,
      ) ||
      name === 'LOG_LEVEL';
    if (!portcullisSetting) env[name] = value;
  }
  return { ...env, ...settings };
}

async function waitUntilHealthy(baseUrl: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    const healthy = await fetch(`${baseUrl}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

/** A port nobody listens on right now: bind port 0, read the number the system chose, release it. */
async function freePort(): Promise<number> {
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

/** A memory figure of /proc/<pid>/status, which gives it in kB. */
async function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
