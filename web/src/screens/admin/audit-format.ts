/** Human words for the audit log's event types and details. Unknown types are shown as they are. */
import type { AuditEvent, AuditEventType } from '../../api.ts';

/** One label for each type the server writes: a type without one fails the typecheck. */
export const EVENT_LABELS: Record<AuditEventType, string> = {
  'login.succeeded': 'Signed in',
  'login.failed': 'Sign-in failed',
  'login.locked': 'Sign-in locked',
  'login.refused': 'Sign-in refused',
  logout: 'Signed out',
  'mfa.verified': 'MFA verified',
  'mfa.verification_failed': 'MFA verification failed',
  'mfa.locked': 'MFA verification locked',
  'mfa.enrolled': 'MFA method enabled',
  'mfa.disabled': 'MFA method disabled',
  'mfa.recovery_code_used': 'Recovery code used',
  'mfa.recovery_codes_regenerated': 'Recovery codes regenerated',
  'mfa.reset': 'MFA reset',
  'org.created': 'Organization created',
  'org.mfa_policy_changed': 'MFA policy changed',
  'org.mfa_policy_weakening_requested': 'MFA policy weakening requested',
  'org.mfa_methods_changed': 'Verification methods changed',
  'user.created': 'User added',
  'password.changed': 'Password changed',
  'password.change_failed': 'Password change failed',
  'password.reset_requested': 'Password reset requested',
  'password.reset': 'Password reset',
  'sessions.invalidated': 'Sessions ended',
  'sso.login_succeeded': 'Signed in with SSO',
  'sso.login_refused': 'SSO sign-in refused',
  'sso.reauthenticated': 'Verified with SSO',
  'sso.reauthentication_refused': 'SSO verification refused',
  'org.sso_configured': 'Single sign-on configured',
  'org.sso_removed': 'Single sign-on removed',
  'org.app_registered': 'App registered',
  'org.app_updated': 'App changed',
  'org.app_secret_rotated': 'App secret replaced',
  'org.app_removed': 'App removed',
  'user.converted_to_sso': 'User moved to SSO',
};

/** The log may hold types this console does not know (written by another version). */
export function eventLabel(type: string): string {
  return (EVENT_LABELS as Partial<Record<string, string>>)[type] ?? type;
}

const WORDS: Record<string, string> = {
  disabled: 'Disabled',
  enabled: 'Enabled',
  required: 'Required',
  totp: 'Authenticator App',
  email: 'Email',
  recovery_code: 'Recovery Code',
  authenticated: 'no second factor needed',
  mfa_required: 'second factor asked',
  enrollment_required: 'enrollment asked',
  wrong_password: 'wrong password',
  wrong_current_password: 'wrong current password',
  email_code: 'emailed code',
  admin: 'Admin',
  member: 'Member',
};

const word = (value: unknown) => WORDS[String(value)] ?? String(value);
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function methodsText(methods: unknown): string {
  if (!methods || typeof methods !== 'object') return '';
  const m = methods as { totp?: boolean; email?: boolean };
  return `Authenticator App ${m.totp ? 'on' : 'off'}, Email ${m.email ? 'on' : 'off'}`;
}

/** A one-line summary of an event's details. */
export function detailsSummary(event: AuditEvent): string {
  const d = event.details;
  switch (event.type) {
    case 'org.mfa_policy_changed': {
      const parts = [`${word(d.from)} → ${word(d.to)}`];
      if (d.sessions === 'invalidate') parts.push('sessions invalidated');
      if (d.sessions === 'keep') parts.push('sessions kept');
      if (d.confirmed_by) parts.push(`confirmed by ${word(d.confirmed_by)}`);
      return parts.join(' · ');
    }
    case 'org.mfa_policy_weakening_requested':
      return `${word(d.from)} → ${word(d.to)} · code emailed`;
    case 'org.mfa_methods_changed':
      return methodsText(d.to);
    case 'mfa.enrolled':
    case 'mfa.disabled':
    case 'mfa.verified':
      return d.method ? word(d.method) : '';
    case 'mfa.reset':
      return `${plural(Number(d.factors ?? 0), 'method', 'methods')} and ${plural(
        Number(d.recovery_codes ?? 0),
        'recovery code',
        'recovery codes',
      )} removed · signed out`;
    case 'login.failed':
    case 'password.change_failed':
    case 'mfa.verification_failed': {
      const parts: string[] = [];
      if (d.method) parts.push(word(d.method));
      if (d.reason) parts.push(word(d.reason));
      if (d.consecutive_failures)
        parts.push(`${plural(Number(d.consecutive_failures), 'failure', 'failures')} in a row`);
      return parts.join(' · ');
    }
    case 'login.locked':
    case 'mfa.locked':
      return `locked for ${Math.round(Number(d.lock_seconds ?? 0) / 60)} minutes`;
    case 'login.succeeded':
      return d.status ? word(d.status) : '';
    case 'mfa.recovery_code_used':
      return `${plural(Number(d.remaining ?? 0), 'code', 'codes')} left`;
    case 'user.created':
      return `${word(d.role)}${d.sso ? ' · SSO' : ''}`;
    case 'sessions.invalidated':
      return [d.scope === 'org' ? 'everyone' : d.scope === 'user' ? 'one user' : '', d.reason]
        .filter(Boolean)
        .map(String)
        .join(' · ');
    case 'sso.login_succeeded':
    case 'sso.reauthenticated':
      return Array.isArray(d.amr) && d.amr.length > 0
        ? `methods at the provider: ${d.amr.join(', ')}`
        : '';
    case 'sso.login_refused':
      return d.reason ? String(d.reason).replace(/^sso_/, '').replace(/_/g, ' ') : '';
    case 'org.sso_configured':
      return [d.issuer, Array.isArray(d.allowed_domains) ? d.allowed_domains.join(', ') : null]
        .filter(Boolean)
        .map(String)
        .join(' · ');
    case 'password.changed':
      return d.verified_with && d.verified_with !== 'not_needed'
        ? `verified with ${word(d.verified_with)}`
        : '';
    default:
      return Object.entries(d)
        .map(
          ([key, value]) =>
            `${key.replace(/_/g, ' ')}: ${
              value !== null && typeof value === 'object' ? JSON.stringify(value) : word(value)
            }`,
        )
        .join(' · ');
  }
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function formatClock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'medium' });
}
