import { api } from '../../api.ts';

/** The org's MFA settings as GET /org/mfa answers them, and the texts of seed 004. */

export type Policy = 'disabled' | 'enabled' | 'required';
export type AllowedMethods = { totp: boolean; email: boolean };
export type OrgMfa = {
  policy: Policy;
  methods: AllowedMethods;
  users_total: number;
  users_enrolled: number;
};

export const POLICIES: Policy[] = ['disabled', 'enabled', 'required'];

export const POLICY_LABELS: Record<Policy, string> = {
  disabled: 'Disabled',
  enabled: 'Enabled',
  required: 'Required',
};

/** Seed 004, "Admin Setup: Configure MFA Policies". */
export const POLICY_TEXTS: Record<Policy, string> = {
  disabled: 'MFA is not available.',
  enabled: 'MFA is requested for sensitive actions only if the user opted in.',
  required: 'MFA is mandatory. Users must enable a method.',
};

const STRENGTH: Record<Policy, number> = { disabled: 0, enabled: 1, required: 2 };

export function isStronger(to: Policy, from: Policy): boolean {
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
