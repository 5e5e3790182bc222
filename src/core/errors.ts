/**
 * The catalog of every error a client can cause. Services return these codes as values; only the
 * HTTP layer turns them into statuses (see src/http/error-status.ts).
 */
export const errorMessages = {
  invalid_request: 'The request is not valid.',
  invalid_json: 'The request body is not valid JSON.',
  unsupported_media_type: 'State-changing requests must send application/json.',
  payload_too_large: 'The request body is too large.',
  not_found: 'Not found.',
  method_not_allowed: 'Method not allowed.',
  forbidden_origin: 'The request origin is not allowed.',
  unauthenticated: 'Sign in first.',
  forbidden: 'You are not allowed to do this.',
  invalid_credentials: 'The organization, email or password is incorrect.',
  sso_required: 'This account signs in through the organization’s identity provider.',
  rate_limited: 'Too many attempts. Try again later.',
  invalid_slug:
    'An organization slug is 2 to 40 lowercase letters, digits or hyphens, and does not start or end with a hyphen.',
  invalid_email: 'The email address is not valid.',
  invalid_name: 'A name is 1 to 200 characters.',
  weak_password: 'A password is at least 8 characters long.',
  password_too_long: 'A password is at most 256 characters long.',
  slug_taken: 'An organization with this slug already exists.',
  email_taken: 'A user with this email already exists in this organization.',
  org_not_found: 'No organization has this slug.',
  invalid_setup_token: 'The setup link is not valid. Restart the server to get a new one.',
  setup_complete: 'Setup is complete: an organization already exists.',
  invalid_code: 'The code is not valid.',
  too_many_attempts: 'Too many wrong codes. Verification is locked for a while.',
  mfa_required: 'Verify your second factor first.',
  enrollment_required: 'Set up a second factor first.',
  mfa_not_pending: 'This session is not waiting for a second factor.',
  mfa_disabled: 'Multi-factor authentication is disabled for this organization.',
  method_not_allowed_by_org: 'This organization does not allow this method.',
  no_pending_setup: 'Start the setup again: there is no pending setup, or it expired.',
  method_has_no_challenge:
    'This method has nothing to send: answer with its code (or the prompt of its device) directly.',
  verification_required: 'Confirm this action with a verification code.',
  email_confirmation_required:
    'Weakening the MFA policy needs a code emailed to you: use the weaken endpoint.',
  email_unavailable: 'The email could not be sent. Try again in a moment.',
  mfa_not_enabled: 'Multi-factor authentication is not on, so there is nothing to weaken.',
  not_a_weakening: 'Use PUT /org/mfa/policy to strengthen the policy.',
  no_method_allowed: 'At least one verification method must stay allowed while MFA is on.',
  sso_user: 'This user signs in through SSO: their identity provider handles MFA.',
  own_account: 'Reset your own MFA from your own security settings.',
  invalid_cursor: 'The cursor is not valid.',
  no_usable_method:
    'Your organization no longer allows any verification method you have, and no recovery code is left. Ask an admin to reset your MFA.',
  methods_strand_users:
    'Turning these methods off leaves some users with nothing to verify with. Confirm with confirm_stranded_users set to their number.',
  policy_changed: 'The policy changed since this request was made. Start again.',
  last_method_required: 'Your organization requires MFA: you cannot turn off your last method.',
  method_not_enabled: 'This method is not on for your account.',
  no_second_factor:
    'There is no second factor to verify: your account has none your organization allows.',
  no_method_enabled: 'Turn on a verification method first.',
  invalid_token: 'This link is not valid or has expired. Ask for a new one.',
  sso_not_configured: 'This organization has no single sign-on connection.',
  sso_unavailable: 'The identity provider cannot be reached. Try again later.',
  sso_failed: 'Single sign-on did not complete. Start again.',
  sso_account_conflict:
    'A password account already uses this email. An admin must convert it to SSO first.',
  sso_user_unknown: 'No account in this organization matches this identity. Ask your admin.',
  sso_domain_not_allowed: 'This email domain is not allowed for this organization.',
  sso_email_invalid:
    'The identity provider did not send a plain email address (name@domain) for this identity.',
  sso_email_unverified: 'The identity provider has not verified this email address.',
  sso_subject_mismatch:
    'This account is linked to another identity at the identity provider. Ask your admin.',
  invalid_issuer:
    'The issuer must be an https URL on a public address, without a user name or password (http only for an identity provider on this machine, where the server allows it for development).',
  invalid_metrics_token: 'Send the metrics token as Authorization: Bearer <token>.',
  invalid_redirect_uri:
    'Each redirect URI is an absolute https URL without a fragment (http only on a loopback address: 127.0.0.1, [::1] or localhost).',
  app_is_public: 'A public app has no client secret.',
  provider_interaction_expired:
    'This sign-in request is not valid any more. Go back to the app and sign in again.',
  busy: 'The service is busy. Try again in a moment.',
  internal_error: 'Something went wrong on our side.',
} as const;

export type ErrorCode = keyof typeof errorMessages;

export type Failure<E extends ErrorCode = ErrorCode> = { ok: false; error: E };
export type Success<T> = { ok: true; value: T };
export type Result<T, E extends ErrorCode = ErrorCode> = Success<T> | Failure<E>;

export function ok<T>(value: T): Success<T> {
  return { ok: true, value };
}

export function fail<E extends ErrorCode>(error: E): Failure<E> {
  return { ok: false, error };
}
