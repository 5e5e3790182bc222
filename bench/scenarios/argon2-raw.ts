import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spread, type Spread } from '../lib/load.ts';

const loopScript = fileURLToPath(new URL('./argon2-loop.ts', import.meta.url));

/** libuv's default thread pool, the one the server runs with too (UV_THREADPOOL_SIZE unset). */
const THREAD_POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/**
 * (1) The physical limit of sign-in: argon2id verifications per second of the same hash the bench
 * users have, in a fresh process while the server is idle.
 */
export async function measureRawArgon2(options: {
  hash: string;
  password: string;
  seconds: number;
  runs: number;
}): Promise<Spread> {
  const job = { ...options, inFlight: THREAD_POOL_SIZE * 2 };
  const child = spawn(process.execPath, [loopScript, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the argon2id loop exited with ${code}`);
  return spread(JSON.parse(output) as number[]);
}
