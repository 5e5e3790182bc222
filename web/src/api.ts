/** The console talks only to the public JSON API, like any other client. */
import type { ApiError, Me } from '../../src/http/contract.ts';

/** The API's bodies and answers, as the server declares them (types only: no server code). */
export type * from '../../src/http/contract.ts';

export type ApiResult<T> =
  { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError };

/** Listeners told when the session is gone (401), so the app can return to sign-in and back. */
const sessionLostListeners = new Set<() => void>();
export function onSessionLost(listener: () => void): () => void {
  sessionLostListeners.add(listener);
  return () => sessionLostListeners.delete(listener);
}

export async function api<T = unknown>(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: {
        error: 'network',
        message: 'The server cannot be reached. Check your connection and try again.',
      },
    };
  }
  const text = await response.text();
  const data = text ? (JSON.parse(text) as unknown) : null;
  if (response.ok) return { ok: true, status: response.status, data: data as T };
  const error = (data as ApiError | null) ?? { error: 'unknown', message: 'Something went wrong.' };
  if (response.status === 401 && error.error === 'unauthenticated') {
    for (const listener of sessionLostListeners) listener();
  }
  return { ok: false, status: response.status, error };
}

export const getMe = () => api<Me>('GET', '/me');
