import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { confirmEmailSetup, startEmailSetup } from '../../services/mfa/email/enrollment.ts';
import { confirmTotpSetup, startTotpSetup } from '../../services/mfa/totp/enrollment.ts';
import type { RouteContext } from '../route-context.ts';
import {
  CodeSentSchema,
  ConfirmSetupBodySchema,
  IssuedRecoveryCodesSchema,
  TotpSetupSchema,
} from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { authErrors, emptyBodyAsObject, ErrorSchema, WithVerificationBody } from '../schemas.ts';
import { authOf, requestOrigin, requireSession, setSessionCookie } from '../session.ts';

/** The user's own factors. A session in enrollment may use these routes, and only these. */
export const meMfaRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { statuses: ['authenticated', 'enrollment_required'] });

  /** Both methods confirm alike: the code in, 10 recovery codes out, a new cookie if enrolling. */
  const confirmRoute = (url: string, confirm: typeof confirmTotpSetup) =>
    app.post(
      url,
      {
        schema: {
          tags: ['me'],
          body: ConfirmSetupBodySchema,
          response: { 200: IssuedRecoveryCodesSchema, 409: ErrorSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const result = await confirm(
          deps,
          authOf(request),
          request.body.code,
          requestOrigin(request),
        );
        if (!result.ok) return sendFailure(reply, result);
        if (result.value.session) setSessionCookie(reply, cookie, result.value.session.token);
        reply.header('cache-control', 'no-store');
        return { recovery_codes: result.value.recoveryCodes };
      },
    );

  app.post(
    '/me/mfa/totp/setup',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['me'],
        body: WithVerificationBody,
        response: { 200: TotpSetupSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await startTotpSetup(
        deps,
        authOf(request),
        request.body.verification,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      const { secret, otpauthUri, qrSvg } = result.value;
      // The secret is shown here once; no route ever returns it again.
      reply.header('cache-control', 'no-store');
      return { secret, otpauth_uri: otpauthUri, qr_svg: qrSvg };
    },
  );

  confirmRoute('/me/mfa/totp/confirm', confirmTotpSetup);

  app.post(
    '/me/mfa/email/setup',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['me'],
        body: WithVerificationBody,
        response: { 202: CodeSentSchema, 503: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await startEmailSetup(
        deps,
        authOf(request),
        request.body.verification,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(202).send({ expires_at: result.value.expiresAt.toISOString() });
    },
  );

  confirmRoute('/me/mfa/email/confirm', confirmEmailSetup);
};
