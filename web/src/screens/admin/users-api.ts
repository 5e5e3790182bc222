import {
  api,
  type MfaStatus,
  type SsoSettings,
  type UsersPage,
  type Verification,
} from '../../api.ts';

/** The MFA column's values: Enrolled or Not Enrolled; SSO users are listed as SSO. */
export const MFA_LABELS: Record<MfaStatus, string> = {
  enrolled: 'Enrolled',
  not_enrolled: 'Not Enrolled',
  sso: 'SSO',
};

export function listUsers(options: {
  cursor?: string | null;
  mfa?: MfaStatus | null;
  limit?: number;
}) {
  const query = new URLSearchParams();
  if (options.cursor) query.set('cursor', options.cursor);
  if (options.mfa) query.set('mfa', options.mfa);
  if (options.limit) query.set('limit', String(options.limit));
  const search = query.toString();
  return api<UsersPage>('GET', `/org/users${search ? `?${search}` : ''}`);
}

/** Whether the org has a single sign-on connection (GET /org/sso answers 404 when it has none). */
export async function hasSsoConnection(): Promise<boolean> {
  const result = await api<SsoSettings>('GET', '/org/sso');
  return result.ok;
}

export function convertUserToSso(userId: string, verification?: Verification) {
  return api<null>(
    'POST',
    `/org/users/${userId}/convert-to-sso`,
    verification ? { verification } : {},
  );
}
