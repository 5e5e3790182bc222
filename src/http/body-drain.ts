import type { IncomingMessage } from 'node:http';

/**
 * Reads the rest of a request body and throws it away, so that an answer given before the body
 * was read (a 413) reaches the client: closing a socket that still has unread bytes resets the
 * connection, and the client loses the answer. Resolves true once the body has ended, false when
 * `maxBytes` or `maxMs` ran out first or the client went away; the caller then closes.
 */
export function discardBody(
  request: IncomingMessage,
  maxBytes: number,
  maxMs: number,
): Promise<boolean> {
  if (request.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    let discarded = 0;
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(request.complete);
    const timer = setTimeout(() => finish(false), maxMs);
    function finish(ended: boolean) {
      clearTimeout(timer);
      request.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(ended);
    }
    request.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
    request.resume();
  });
}
