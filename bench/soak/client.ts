import { randomInt } from 'node:crypto';

/** Requests to the instances, and the tally of requests and errors the soak reports. */

export type Answer = { status: number; body: Record<string, unknown>; session?: string };

export type RequestOptions = {
  body?: unknown;
  session?: string;
  /** The index of the instance to ask; a random one when absent. */
  instance?: number;
};

export type Tally = {
  requests: number;
  errors: number;
  /** The first few error messages, printed at the end. */
  samples: string[];
  byOperation: Map<string, number>;
};

export type SoakClient = {
  instanceCount: number;
  tally: Tally;
  /**
   * One request. Any status but the expected one, or no answer at all, counts as an error and
   * throws, ending that virtual user's current cycle.
   */
  request(
    operation: string,
    expected: number,
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<Answer>;
  /** Counts an error and returns it, for the caller to throw. */
  failure(message: string): Error;
  /** Anything a cycle throws is an error: counted once, whatever threw it. */
  count(error: unknown): void;
};

/** Enough error messages to see what went wrong without flooding the report. */
const MAX_SAMPLES = 20;

/** An error already counted in the tally. */
class CountedError extends Error {}

export function createClient(baseUrls: string[]): SoakClient {
  const tally: Tally = { requests: 0, errors: 0, samples: [], byOperation: new Map() };

  function failure(message: string): Error {
    tally.errors += 1;
    if (tally.samples.length < MAX_SAMPLES) tally.samples.push(message);
    return new CountedError(message);
  }

  async function request(
    operation: string,
    expected: number,
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<Answer> {
    const baseUrl = baseUrls[options.instance ?? randomInt(baseUrls.length)]!;
    tally.requests += 1;
    tally.byOperation.set(operation, (tally.byOperation.get(operation) ?? 0) + 1);
    let answer: Answer;
    try {
      answer = await send(`${baseUrl}/api/v1${path}`, method, options);
    } catch (error) {
      throw failure(`${operation}: no answer (${(error as Error).message})`);
    }
    if (answer.status !== expected) {
      throw failure(`${operation}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
    return answer;
  }

  return {
    instanceCount: baseUrls.length,
    tally,
    request,
    failure,
    count(error) {
      if (!(error instanceof CountedError)) {
        failure(`unexpected: ${(error as Error).stack ?? String(error)}`);
      }
    },
  };
}

async function send(url: string, method: string, options: RequestOptions): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.session ? { cookie: `portcullis_session=${options.session}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const session = response.headers
    .getSetCookie()
    .map((cookie) => /^portcullis_session=([^;]+)/.exec(cookie)?.[1])
    .find(Boolean);
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ...(session ? { session } : {}),
  };
}
