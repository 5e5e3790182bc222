/**
 * Every type of event the audit log records. The store accepts no other type, and the console
 * keeps a label for each one (a missing label fails the typecheck).
 */
export const AUDIT_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.locked',
  'login.refused',
  'logout',
  'mfa.verified',
  'mfa.verification_failed',
  'mfa.locked',
  'mfa.enrolled',
  'mfa.disabled',
  'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerated',
  'mfa.reset',
  'org.created',
  'org.mfa_policy_changed',
  'org.mfa_policy_weakening_requested',
  'org.mfa_methods_changed',
  'org.sso_configured',
  'org.sso_removed',
  'org.app_registered',
  'org.app_updated',
  'org.app_secret_rotated',
  'org.app_removed',
  'user.created',
  'user.converted_to_sso',
  'password.changed',
  'password.change_failed',
  'password.reset_requested',
  'password.reset',
  'sessions.invalidated',
  'sso.login_succeeded',
  'sso.login_refused',
  'sso.reauthenticated',
  'sso.reauthentication_refused',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];
