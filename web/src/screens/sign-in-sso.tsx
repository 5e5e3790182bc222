import { useEffect, useState } from 'react';
import { api, type SsoAvailability } from '../api.ts';
import { Notice } from '../components/fields.tsx';

const SSO_ERRORS: Record<string, string> = {
  sso_account_conflict:
    'A password account already uses this email. Sign in with your password, or ask your admin to switch your account to SSO.',
  sso_user_unknown:
    'Your identity provider signed you in, but this organization has no account for you. Ask your admin.',
  sso_domain_not_allowed: 'Your email domain is not allowed for this organization.',
  sso_email_unverified: 'Your identity provider has not verified your email address.',
  sso_email_invalid:
    'Your identity provider did not send a plain email address for you. Ask your admin.',
  sso_unavailable: 'The identity provider cannot be reached. Try again later.',
  sso_subject_mismatch:
    'This account is linked to another identity at your identity provider. Ask your admin.',
};

/** Why a single sign-on came back without a session (the callback redirects here with a code). */
export function SsoErrorNotice({ code }: { code: string | null }) {
  if (!code) return null;
  return (
    <Notice kind="error">
      {SSO_ERRORS[code] ?? 'Single sign-on did not complete. Start again.'}
    </Notice>
  );
}

/** "Sign in with SSO", shown once the typed organization has a connection. */
export function SsoSignIn({ org }: { org: string }) {
  const [startUrl, setStartUrl] = useState<string | null>(null);
  useEffect(() => {
    const slug = org.trim().toLowerCase();
    if (slug.length < 2) return setStartUrl(null);
    const timer = setTimeout(async () => {
      const result = await api<SsoAvailability>('GET', `/auth/sso/${encodeURIComponent(slug)}`);
      setStartUrl(result.ok && result.data.enabled ? result.data.start_url : null);
    }, 300);
    return () => clearTimeout(timer);
  }, [org]);
  if (!startUrl) return null;
  return (
    <div className="stack">
      <p className="divider-text">or</p>
      <a className="button button-secondary sso-button" href={startUrl}>
        Sign in with SSO
      </a>
    </div>
  );
}
