import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { errorMessages, type ErrorCode } from '../../src/core/errors.ts';
import { errorStatus } from '../../src/http/error-status.ts';

/*
 * Whether an answer is exactly a cataloged error: its status, its code, a bounded message, and no
 * other field than the details some errors carry.
 */

/** What some errors carry besides {error, message}: a lock's retry_after, a step-up's methods. */
const ERROR_DETAILS = new Set(['retry_after', 'methods']);

export function errorBodyOf(
  response: LightMyRequestResponse,
): { error: string; message: string } | null {
  if (!/^application\/json/.test(String(response.headers['content-type']))) return null;
  let body: unknown;
  try {
    body = response.json();
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const { error, message, ...details } = body as Record<string, unknown>;
  if (typeof error !== 'string' || typeof message !== 'string') return null;
  // A bounded message that never echoes the (possibly huge) input back.
  if (message.length === 0 || message.length > 300) return null;
  if (Object.keys(details).some((key) => !ERROR_DETAILS.has(key))) return null;
  return { error, message };
}

export function shown(response: LightMyRequestResponse): string {
  return `${response.statusCode} ${response.body.slice(0, 200)}`;
}

/** Why the answer is not exactly `code` with its status, or null when it is. */
export function mismatch(
  response: LightMyRequestResponse,
  code: ErrorCode,
  messagePrefix?: string,
): string | null {
  const body = errorBodyOf(response);
  if (response.statusCode !== errorStatus[code] || body?.error !== code) {
    return `expected ${errorStatus[code]} ${code}, got ${shown(response)}`;
  }
  if (messagePrefix !== undefined && !body.message.startsWith(messagePrefix)) {
    return `expected a message about "${messagePrefix}", got ${shown(response)}`;
  }
  return null;
}

/** Why the answer is a 5xx or not a cataloged error, or null when it is a success or a 4xx. */
export function serverFault(response: LightMyRequestResponse): string | null {
  if (response.statusCode < 400) return null;
  const body = errorBodyOf(response);
  const known = body && Object.hasOwn(errorMessages, body.error);
  if (response.statusCode >= 500 || !known) return `got ${shown(response)}`;
  if (errorStatus[body.error as ErrorCode] !== response.statusCode) {
    return `status and code disagree: ${shown(response)}`;
  }
  return null;
}

/** Every mismatch of a barrage, collected, so that one failure shows all of them. */
export class Verdicts {
  readonly problems: string[] = [];
  expect(what: string, response: LightMyRequestResponse, code: ErrorCode, messagePrefix?: string) {
    const problem = mismatch(response, code, messagePrefix);
    if (problem) this.problems.push(`${what}: ${problem}`);
  }
  expectNoServerFault(what: string, response: LightMyRequestResponse) {
    const problem = serverFault(response);
    if (problem) this.problems.push(`${what}: ${problem}`);
  }
  assertNone() {
    assert.deepEqual(this.problems, []);
  }
}
