import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorCode } from '../core/errors.ts';
import {
  BUSY_RETRY_AFTER_SECONDS,
  REQUEST_BODY_DRAIN_MAX_BYTES,
  REQUEST_BODY_DRAIN_MAX_SECONDS,
} from '../core/limits.ts';
import { SessionEnded } from '../services/session/auth.ts';
import { isTransientConflict } from '../store/transaction.ts';
import { discardBody } from './body-drain.ts';
import { errorBody, errorStatus, sendError } from './error-status.ts';

/** Fastify's own client errors, by code, mapped onto the product's catalog. */
const fastifyErrorCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

/**
 * One handler for everything thrown: validation and protocol errors become a 4xx with a stable
 * code, a session ended while the request ran a 401, a database conflict that outlasted its
 * retries a 503 busy; anything else is a bug, logged in full and answered with a bare 500.
 */
export function installErrorHandlers(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const message = `${error.validationContext ?? 'request'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is not valid'}`;
      return reply.code(400).send(errorBody('invalid_request', message));
    }
    const mapped = error.code ? fastifyErrorCodes[error.code] : undefined;
    // Fastify stops reading at the limit and asks to close the connection: the rest of the body
    // is read first (up to a bound), or the close would reset the connection under the 413.
    if (mapped === 'payload_too_large') {
      return discardBody(
        request.raw,
        REQUEST_BODY_DRAIN_MAX_BYTES,
        REQUEST_BODY_DRAIN_MAX_SECONDS * 1000,
      ).then(() => sendError(reply, mapped));
    }
    if (mapped) return sendError(reply, mapped);
    if (error instanceof SyntaxError) return sendError(reply, 'invalid_json');
    const status = error.statusCode ?? 500;
    if (status === 429) {
      const retryAfterSeconds = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
      return sendError(reply, 'rate_limited', retryAfterSeconds ? { retryAfterSeconds } : {});
    }
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code }, 'client error');
      return reply.code(status).send(errorBody('invalid_request'));
    }
    // The session was ended (a logout) while the request ran: answered as any ended session.
    if (error instanceof SessionEnded) return sendError(reply, 'unauthenticated');
    // A deadlock or serialization failure that outlasted its retries: nothing is wrong but timing.
    if (isTransientConflict(error)) {
      request.log.warn(
        { err: describeFailure(error) },
        'transaction conflict outlasted its retries',
      );
      return sendError(reply, 'busy', { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS });
    }
    request.log.error({ err: describeFailure(error) }, 'request failed');
    return reply.code(500).send(errorBody('internal_error'));
  });

  app.setNotFoundHandler((request, reply) => {
    void request;
    return reply.code(errorStatus.not_found).send(errorBody('not_found'));
  });
}

/**
 * What a 500 logs: the error's kind, message, SQLSTATE and stack, and nothing else. Database
 * drivers attach the query's parameters to their errors (PGlite does), and those can be password
 * hashes or secrets, so the error object itself is never handed to the logger.
 */
export function describeFailure(error: Error & { code?: string }) {
  return {
    type: error.constructor?.name ?? 'Error',
    message: error.message,
    sqlstate: typeof error.code === 'string' ? error.code : undefined,
    stack: error.stack,
  };
}

/**
 * Refuses any string holding U+0000 (in the body, the query or a path parameter): PostgreSQL text
 * cannot store it, and no field needs it.
 */
export function installNulByteGuard(app: FastifyInstance) {
  app.addHook('preValidation', async (request, reply) => {
    if (
      containsNulByte(request.body) ||
      containsNulByte(request.query) ||
      containsNulByte(request.params)
    ) {
      return reply
        .code(400)
        .send(errorBody('invalid_request', 'Text must not contain NUL characters.'));
    }
  });
}

function containsNulByte(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000') || containsNulByte(item, depth + 1)) return true;
  }
  return false;
}
