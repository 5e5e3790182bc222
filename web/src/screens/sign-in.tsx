import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, type ApiError, type LoginAnswer, type LoginBody } from '../api.ts';
import { Button, Field, Notice } from '../components/fields.tsx';
import { CardPage } from '../components/layout.tsx';
import { Link, useRouter } from '../router.tsx';
import { homeFor, useSession } from '../session.tsx';
import {
  forgetMethods,
  forgetSession,
  hadSession,
  keepMethods,
  markSignedIn,
  minutesText,
  rememberOrg,
  rememberedOrg,
  safeNext,
  withNext,
} from './auth-flow.ts';
import { SsoErrorNotice, SsoSignIn } from './sign-in-sso.tsx';
import './sign-in-flows.css';

type FieldName = 'org' | 'email' | 'password';

function describeLoginError(error: ApiError): string {
  if (error.error === 'rate_limited') {
    return `Too many sign-in attempts. Try again in ${minutesText(error.retry_after)}.`;
  }
  // invalid_credentials, sso_required and the rest: the server's own words.
  return error.message;
}

export function SignInScreen() {
  const { search, navigate } = useRouter();
  const { me, refresh } = useSession();
  const next = safeNext(search.get('next'));
  const formRef = useRef<HTMLFormElement>(null);
  // Said only to someone who was signed in here, not to a first visit.
  const [expired] = useState(() => search.get('expired') === '1' && hadSession());
  const [org, setOrg] = useState(() => search.get('org')?.trim().toLowerCase() || rememberedOrg());
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A signed-in visitor goes on, unless sent here to sign in to another org (an app of that org
  // asked); anyone else starts afresh (the expired note is said once).
  useEffect(() => {
    const asked = search.get('org')?.trim().toLowerCase();
    const sameOrg = !asked || me?.user.org.slug === asked;
    if (me?.session.status === 'authenticated' && sameOrg) {
      navigate(next ?? homeFor(me), { replace: true });
    } else if (!me) forgetSession();
    // Only on arrival: after this screen's own sign-in, submit() decides where to go.
  }, []);

  function focusField(name: FieldName) {
    const input = formRef.current?.elements.namedItem(name);
    if (input instanceof HTMLInputElement) input.focus();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const slug = org.trim().toLowerCase();
    const found: Partial<Record<FieldName, string>> = {};
    if (!slug) found.org = 'Enter your organization.';
    if (!email.trim()) found.email = 'Enter your email address.';
    if (!password) found.password = 'Enter your password.';
    setErrors(found);
    setFailure(null);
    const firstInvalid = (['org', 'email', 'password'] as const).find((name) => found[name]);
    if (firstInvalid) return focusField(firstInvalid);

    setBusy(true);
    const result = await api<LoginAnswer>('POST', '/auth/login', {
      org: slug,
      email: email.trim(),
      password,
    } satisfies LoginBody);
    if (!result.ok) {
      setBusy(false);
      setFailure(describeLoginError(result.error));
      if (result.error.error === 'invalid_credentials') {
        setPassword('');
        focusField('password');
      }
      return;
    }
    rememberOrg(slug);
    markSignedIn();
    const { status, methods } = result.data;
    if (status === 'mfa_required') keepMethods(methods);
    else forgetMethods();
    const signedIn = await refresh();
    if (status === 'mfa_required') navigate(withNext('/verify', next), { replace: true });
    else if (status === 'enrollment_required')
      navigate(withNext('/enroll', next), { replace: true });
    else navigate(next ?? homeFor(signedIn), { replace: true });
  }

  const forgotHref = org.trim()
    ? `/forgot-password?org=${encodeURIComponent(org.trim().toLowerCase())}`
    : '/forgot-password';

  return (
    <CardPage title="Sign in">
      <form ref={formRef} className="stack" onSubmit={submit} noValidate>
        {expired && <Notice kind="warning">Your session expired. Sign in again.</Notice>}
        <SsoErrorNotice code={search.get('sso_error')} />
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
        <Field
          label="Password"
          name="password"
          type="password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={errors.password}
          autoComplete="current-password"
        />
        <Link className="field-inline-link" to={forgotHref}>
          Forgot password?
        </Link>
        <Button type="submit" busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
      <SsoSignIn org={org} />
    </CardPage>
  );
}
