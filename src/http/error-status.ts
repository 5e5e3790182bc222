import type { FastifyReply } from 'fastify';
import { errorMessages, type ErrorCode } from '../core/errors.ts';

/** The only place where error codes become HTTP statuses. */
export const errorStatus: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  forbidden_origin: 403,
  unauthenticated: 401,
  forbidden: 403,
  invalid_credentials: 401,
  sso_required: 403,
  rate_limited: 429,
  invalid_slug: 400,
  invalid_email: 400,
  invalid_name: 400,
  weak_password: 400,
  password_too_long: 400,
  slug_taken: 409,
  email_taken: 409,
  org_not_found: 404,
  invalid_setup_token: 403,
  setup_complete: 409,
  invalid_code: 401,
  too_many_attempts: 429,
  mfa_required: 403,
  enrollment_required: 403,
  mfa_not_pending: 409,
  mfa_disabled: 403,
  method_not_allowed_by_org: 403,
  no_pending_setup: 409,
  method_has_no_challenge: 400,
  verification_required: 403,
  email_confirmation_required: 403,
  email_unavailable: 503,
  mfa_not_enabled: 409,
  not_a_weakening: 400,
  no_method_allowed: 409,
  sso_user: 409,
  own_account: 403,
  invalid_cursor: 400,
  no_usable_method: 403,
  methods_strand_users: 409,
  policy_changed: 409,
  last_method_required: 409,
  method_not_enabled: 409,
  no_second_factor: 409,
  no_method_enabled: 409,
  invalid_token: 400,
  sso_not_configured: 404,
  sso_unavailable: 502,
  sso_failed: 400,
  sso_account_conflict: 409,
  sso_user_unknown: 403,
  sso_domain_not_allowed: 403,
  sso_email_invalid: 403,
  sso_email_unverified: 403,
  sso_subject_mismatch: 409,
  invalid_issuer: 400,
  invalid_metrics_token: 401,
  invalid_redirect_uri: 400,
  app_is_public: 409,
  provider_interaction_expired: 400,
  busy: 503,
  internal_error: 500,
};

export type ErrorBody = {
  error: ErrorCode;
  message: string;
  retry_after?: number;
  methods?: string[];
  sso_url?: string;
  stranded_users?: number;
  /** verification_required: the sensitive action that asks (src/core/sensitive-actions.ts). */
  action?: string;
};

export function errorBody(code: ErrorCode, message: string = errorMessages[code]): ErrorBody {
  return { error: code, message };
}

export type FailureDetails = {
  retryAfterSeconds?: number;
  methods?: string[];
  ssoUrl?: string;
  strandedUsers?: number;
  action?: string;
};

export function sendError(reply: FastifyReply, code: ErrorCode, extra: FailureDetails = {}) {
  const body: ErrorBody = errorBody(code);
  if (extra.retryAfterSeconds !== undefined) {
    body.retry_after = extra.retryAfterSeconds;
    reply.header('retry-after', String(extra.retryAfterSeconds));
  }
  if (extra.methods !== undefined) body.methods = extra.methods;
  if (extra.ssoUrl !== undefined) body.sso_url = extra.ssoUrl;
  if (extra.strandedUsers !== undefined) body.stranded_users = extra.strandedUsers;
  if (extra.action !== undefined) body.action = extra.action;
  return reply.code(errorStatus[code]).send(body);
}

/** Answers a service's failure value, with the details some failures carry. */
export function sendFailure(reply: FastifyReply, failure: { error: ErrorCode } & FailureDetails) {
  return sendError(reply, failure.error, failure);
}
