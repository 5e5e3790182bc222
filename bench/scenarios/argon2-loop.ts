/**
 * Run as a child process by argon2-raw.ts: verifies one argon2id hash in a loop that keeps libuv's
 * thread pool full (twice as many verifications in flight as it has threads), with the library
 * the server uses, and prints the verifications per second of each run as JSON.
 */
import { verify } from '@node-rs/argon2';

type Job = { hash: string; password: string; seconds: number; runs: number; inFlight: number };

const job = JSON.parse(process.argv[2] ?? '{}') as Job;

async function oneRun(): Promise<number> {
  const start = performance.now();
  const end = start + job.seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      if (!(await verify(job.hash, job.password))) throw new Error('the bench hash did not verify');
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: job.inFlight }, worker));
  return done / ((performance.now() - start) / 1000);
}

const results: number[] = [];
await oneRun(); // warm-up: thread start, page faults of the 19 MiB blocks
for (let i = 0; i < job.runs; i += 1) results.push(await oneRun());
process.stdout.write(`${JSON.stringify(results)}\n`);
