import type { Series } from '../lib/load.ts';
import { timedSeries, type SeriesOptions } from '../lib/series.ts';

/** Warm-up requests per connection before the timed runs (as for the peer's get-session). */
const WARM_UP_PER_CONNECTION = 50;

/** (4) GET /me for signed-in users, round-robin over their cookies. */
export async function measureMe(
  baseUrl: string,
  cookies: string[],
  options: SeriesOptions,
): Promise<Series> {
  let next = 0;
  return timedSeries(options, {
    baseUrl,
    warmUpPerConnection: WARM_UP_PER_CONNECTION,
    next: () => {
      next = (next + 1) % cookies.length;
      return { path: '/api/v1/me', headers: { cookie: cookies[next]! } };
    },
  });
}
