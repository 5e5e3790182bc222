import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, summarize, type LoadOptions, type RunFigures, type Series } from './load.ts';

/**
 * Pause after a timed run: autocannon stops counting when the time is up, but the server finishes
 * the requests in flight (an argon2id hash cannot be cancelled); they must not overlap the next run.
 */
export const SETTLE_MS = 1000;

export type SeriesOptions = { runs: number; seconds: number; connections: number };

/**
 * An unreported warm-up (a fixed count per connection, so that it ends with nothing in flight),
 * then `runs` timed loads: as the Better Auth peer measures its own.
 */
export async function timedSeries(
  options: SeriesOptions,
  load: { baseUrl: string; next: LoadOptions['next']; warmUpPerConnection: number },
): Promise<Series> {
  const base = { baseUrl: load.baseUrl, connections: options.connections, next: load.next };
  await runLoad({ ...base, amount: load.warmUpPerConnection * options.connections });
  const runs: RunFigures[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    runs.push(await runLoad({ ...base, seconds: options.seconds }));
    await sleep(SETTLE_MS);
  }
  return summarize(runs);
}
