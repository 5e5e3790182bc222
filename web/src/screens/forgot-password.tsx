import { useRef, useState, type FormEvent } from 'react';
import { api, type ForgotPasswordBody } from '../api.ts';
import { Button, Field, Notice } from '../components/fields.tsx';
import { CardPage } from '../components/layout.tsx';
import { Link, useRouter } from '../router.tsx';
import { minutesText, rememberOrg, rememberedOrg } from './auth-flow.ts';
import './sign-in-flows.css';

type FieldName = 'org' | 'email';

/** Asks for a reset link. The answer is the same whether or not the account exists. */
export function ForgotPasswordScreen() {
  const { search } = useRouter();
  const formRef = useRef<HTMLFormElement>(null);
  const [org, setOrg] = useState(() => search.get('org')?.trim().toLowerCase() || rememberedOrg());
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found: Partial<Record<FieldName, string>> = {};
    if (!org.trim()) found.org = 'Enter your organization.';
    if (!email.trim()) found.email = 'Enter your email address.';
    setErrors(found);
    setFailure(null);
    const firstInvalid = (['org', 'email'] as const).find((name) => found[name]);
    if (firstInvalid) {
      const input = formRef.current?.elements.namedItem(firstInvalid);
      if (input instanceof HTMLInputElement) input.focus();
      return;
    }
    setBusy(true);
    const slug = org.trim().toLowerCase();
    const result = await api<null>('POST', '/auth/password/forgot', {
      org: slug,
      email: email.trim(),
    } satisfies ForgotPasswordBody);
    setBusy(false);
    if (result.ok) {
      rememberOrg(slug); // for the sign-in after the reset link
      return setSentTo(email.trim());
    }
    setFailure(
      result.error.error === 'rate_limited'
        ? `Too many requests. Try again in ${minutesText(result.error.retry_after, 60)}.`
        : result.error.message,
    );
  }

  const signInHref = org.trim() ? `/sign-in?org=${encodeURIComponent(org.trim())}` : '/sign-in';

  if (sentTo) {
    return (
      <CardPage title="Check your email">
        <div className="stack">
          <Notice kind="success">
            If <strong>{sentTo}</strong> has an account in this organization, we have emailed it a
            link to choose a new password. The link works once, for 30 minutes.
          </Notice>
          <p className="card-intro">
            No email after a few minutes? Check your spam folder and the address you typed, or ask
            your admin.
          </p>
          <Link to={signInHref}>Back to sign in</Link>
        </div>
      </CardPage>
    );
  }

  return (
    <CardPage title="Forgot password">
      <form ref={formRef} className="stack" onSubmit={submit} noValidate>
        <p className="card-intro">
          Enter your organization and the email of your account. We will email you a link to choose
          a new password.
        </p>
        {failure && <Notice kind="error">{failure}</Notice>}
        <Field
          label="Organization"
          name="org"
          value={org}
          onChange={(event) => setOrg(event.target.value)}
          hint="Your organization’s short name, such as acme."
          error={errors.org}
          autoComplete="organization"
          autoCapitalize="none"
          spellCheck={false}
          autoFocus={!org}
        />
        <Field
          label="Email"
          name="email"
          type="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={errors.email}
          autoComplete="username"
          autoFocus={Boolean(org)}
        />
        <Button type="submit" busy={busy}>
          {busy ? 'Sending…' : 'Email me a reset link'}
        </Button>
      </form>
      <div className="card-links">
        <Link to={signInHref}>Back to sign in</Link>
      </div>
    </CardPage>
  );
}
