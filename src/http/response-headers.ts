import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The console's policy: its own scripts and style sheets only, nothing inline, never framed.
 * - style-src 'self' holds: the console's CSS is one file, React's `style` props are applied
 *   through the CSSOM (which a policy does not block), and the QR code's SVG markup colours itself
 *   with presentation attributes, never `style`.
 * - img-src data: is for the `data:,` favicon in index.html (the QR code is inline markup).
 * - form-action 'self': the console's forms post to the API by script; the SSO start is a link.
 * - upgrade-insecure-requests only once the server is reached over https.
 */
export function helmetOptions(secure: boolean): FastifyHelmetOptions {
  return {
    hsts: secure,
    frameguard: { action: 'deny' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
  };
}

/**
 * No answer may be stored by a browser or a proxy unless its route says how (the console's
 * files do, through @fastify/static): API answers depend on the session and some show secrets
 * once (a TOTP secret, recovery codes), and an error or a redirect must not be replayed either.
 */
export function installNoStoreByDefault(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
}
