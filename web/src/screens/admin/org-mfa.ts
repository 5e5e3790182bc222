import { api, type MfaPolicy, type OrgMfa } from '../../api.ts';

/** The org's MFA settings as GET /org/mfa answers them, and the texts that explain them. */

export const POLICIES: MfaPolicy[] = ['disabled', 'enabled', 'required'];

export const POLICY_LABELS: Record<MfaPolicy, string> = {
  disabled: 'Disabled',
  enabled: 'Enabled',
  required: 'Required',
};

/** What each policy means, as the admin reads it beside the choice. */
export const POLICY_TEXTS: Record<MfaPolicy, string> = {
  disabled: 'MFA is not available.',
  enabled: 'MFA is requested for sensitive actions only if the user opted in.',
  required: 'MFA is mandatory. Users must enable a method.',
};

const STRENGTH: Record<MfaPolicy, number> = { disabled: 0, enabled: 1, required: 2 };

export function isStronger(to: MfaPolicy, from: MfaPolicy): boolean {
  return STRENGTH[to] > STRENGTH[from];
}

export const getOrgMfa = () => api<OrgMfa>('GET', '/org/mfa');

/** A countdown's end, from a server time: robust to a client clock that is off. */
export function deadlineFrom(expiresAt: string, fallbackSeconds: number): number {
  const left = Date.parse(expiresAt) - Date.now();
  const ms = left > 0 && left <= fallbackSeconds * 1000 ? left : fallbackSeconds * 1000;
  return Date.now() + ms;
}

export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
