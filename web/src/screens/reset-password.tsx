import { useRef, useState, type FormEvent } from 'react';
import { api, type ResetPasswordBody } from '../api.ts';
import { Button, Field, Notice } from '../components/fields.tsx';
import { CardPage } from '../components/layout.tsx';
import { Link } from '../router.tsx';
import { rememberedOrg } from './auth-flow.ts';
import './sign-in-flows.css';

type FieldName = 'password' | 'confirm';

/** The page of the emailed link: a new password, then sign in (the second factor still applies). */
export function ResetPasswordScreen() {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token'));
  const formRef = useRef<HTMLFormElement>(null);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [failure, setFailure] = useState<{ code: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const org = rememberedOrg();
  const signInHref = org ? `/sign-in?org=${encodeURIComponent(org)}` : '/sign-in';

  function focusField(name: FieldName) {
    const input = formRef.current?.elements.namedItem(name);
    if (input instanceof HTMLInputElement) input.focus();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!token) return; // the form is shown only with a token
    const found: Partial<Record<FieldName, string>> = {};
    if ([...password].length < 8) found.password = 'Use at least 8 characters.';
    else if (confirm !== password) found.confirm = 'The two passwords are not the same.';
    setErrors(found);
    setFailure(null);
    const firstInvalid = (['password', 'confirm'] as const).find((name) => found[name]);
    if (firstInvalid) return focusField(firstInvalid);

    setBusy(true);
    const result = await api<null>('POST', '/auth/password/reset', {
      token,
      new_password: password,
    } satisfies ResetPasswordBody);
    setBusy(false);
    if (result.ok) {
      setPassword('');
      setConfirm('');
      return setDone(true);
    }
    if (result.error.error === 'weak_password' || result.error.error === 'password_too_long') {
      setErrors({ password: result.error.message });
      return focusField('password');
    }
    setFailure({ code: result.error.error, message: result.error.message });
  }

  if (done) {
    return (
      <CardPage title="Password changed">
        <div className="stack">
          <Notice kind="success">
            Your password has been changed, and your other sessions were signed out.
          </Notice>
          <p>
            Sign in with your new password. If your account uses a second factor, your second factor
            is still asked at sign-in.
          </p>
          <Link to={signInHref}>Sign in</Link>
        </div>
      </CardPage>
    );
  }

  const linkProblem = !token || failure?.code === 'invalid_token';
  return (
    <CardPage title="Choose a new password">
      {linkProblem ? (
        <div className="stack">
          <Notice kind="error">
            {token
              ? 'This link is not valid or has expired. Reset links work once, for 30 minutes.'
              : 'This link is not complete. Open the link from the email again, whole.'}
          </Notice>
          <Link to="/forgot-password">Ask for a new link</Link>
        </div>
      ) : (
        <form ref={formRef} className="stack" onSubmit={submit} noValidate>
          {failure && <Notice kind="error">{failure.message}</Notice>}
          <Field
            label="New password"
            name="password"
            type="password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            hint="At least 8 characters. A long passphrase is best."
            error={errors.password}
            autoComplete="new-password"
            autoFocus
          />
          <Field
            label="Confirm new password"
            name="confirm"
            type="password"
            value={confirm}
            onChange={(event) => setConfirm(event.target.value)}
            error={errors.confirm}
            autoComplete="new-password"
          />
          <Button type="submit" busy={busy}>
            {busy ? 'Saving…' : 'Set new password'}
          </Button>
        </form>
      )}
      <div className="card-links">
        <Link to={signInHref}>Back to sign in</Link>
      </div>
    </CardPage>
  );
}
