import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Migrations run before the server listens; on a loaded machine they can take a while. */
const START_TIMEOUT_MS = 60_000;

export type PeerServer = {
  baseUrl: string;
  /** VmHWM of the server process: the most resident memory it has held so far. */
  peakRssBytes(): Promise<number>;
  stop(): Promise<void>;
};

/** Starts `script` with this Node binary, one process, and waits until it listens. */
export async function startPeerServer(options: {
  script: string;
  env: Record<string, string>;
  log: (line: string) => void;
}): Promise<PeerServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [options.script], {
    env: { ...process.env, ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const line of chunk.split('\n')) if (line.trim()) options.log(`  peer: ${line}`);
  });

  const listening = new Promise<void>((resolve) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('listening on')) resolve();
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then(() => 'listening' as const),
    exited.then((code) => `exited with code ${code}`),
    new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`did not listen within ${START_TIMEOUT_MS} ms`),
        START_TIMEOUT_MS,
      );
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'listening') {
    child.kill('SIGKILL');
    throw new Error(`the Better Auth server ${outcome}\n${stderr}`);
  }

  const pid = child.pid!;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    async peakRssBytes() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
      if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
      return Number(match[1]) * 1024;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}
