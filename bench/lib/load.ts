import autocannon from 'autocannon';

/*
 * Load on loopback with autocannon, and the summary every scenario prints: each figure is the
 * median of several runs, with the min and max beside it, so that one noisy run cannot make a
 * claim on its own.
 */

/** One request of a load: built afresh for every request, so bodies and cookies can vary. */
export type NextRequest = () => {
  method?: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
};

export type LoadOptions = {
  baseUrl: string;
  connections: number;
  /** Seconds of load, or a fixed number of requests in all. */
  seconds?: number;
  amount?: number;
  next: NextRequest;
  /** The status every answer must have; any other counts as an error. */
  expectStatus?: number;
};

/** What one run measured. Latencies are in milliseconds. */
export type RunFigures = {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
};

export async function runLoad(options: LoadOptions): Promise<RunFigures> {
  const expected = options.expectStatus ?? 200;
  let unexpected = 0;
  const result = await autocannon({
    url: options.baseUrl,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
    requests: [
      {
        setupRequest: (request) => {
          const next = options.next();
          return {
            ...request,
            method: next.method ?? 'GET',
            path: next.path,
            headers: {
              ...(next.body === undefined ? {} : { 'content-type': 'application/json' }),
              ...next.headers,
            },
            ...(next.body === undefined ? {} : { body: JSON.stringify(next.body) }),
          };
        },
        onResponse: (status) => {
          if (status !== expected) unexpected += 1;
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.total / (result.duration || 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: unexpected + result.errors + result.timeouts,
  };
}

/** Median, min and max of one figure over several runs. */
export type Spread = { median: number; min: number; max: number };

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Several runs of the same load, summarized. */
export type Series = {
  requestsPerSecond: Spread;
  p50: Spread;
  p99: Spread;
  errors: number;
  runs: number;
};

export function summarize(runs: RunFigures[]): Series {
  return {
    requestsPerSecond: spread(runs.map((r) => r.requestsPerSecond)),
    p50: spread(runs.map((r) => r.p50)),
    p99: spread(runs.map((r) => r.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    runs: runs.length,
  };
}

/** Runs `prepare` then the load, `runs` times; `prepare` builds a fresh request source each run. */
export async function measure(
  runs: number,
  prepare: () => Promise<
    Omit<LoadOptions, 'seconds' | 'amount'> & { seconds?: number; amount?: number }
  >,
): Promise<Series> {
  const results: RunFigures[] = [];
  for (let i = 0; i < runs; i += 1) results.push(await runLoad(await prepare()));
  return summarize(results);
}
