import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, type ApiError, type ChangePasswordBody } from '../api.ts';
import { Button, Field, Notice } from '../components/fields.tsx';
import { Layout } from '../components/layout.tsx';
import { useStepUp } from '../components/verification.tsx';
import { useSession } from '../session.tsx';

type Errors = { current?: string; next?: string; confirm?: string };
type Outcome = { kind: 'success' | 'error' | 'info'; text: string };

const SUCCESS = 'Your password was changed. Your other sessions were signed out.';

/**
 * User Settings → Change Password: current and new password, Save Changes, then the "Verification
 * Required" modal when MFA applies.
 */
export function ChangePasswordScreen() {
  const { me, refresh } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const outcomeRef = useRef<HTMLDivElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const save = useStepUp<null>((verification) =>
    api<null>('POST', '/me/password', {
      current_password: current,
      new_password: next,
      ...(verification ? { verification } : {}),
    } satisfies ChangePasswordBody),
  );

  useEffect(() => {
    if (outcome && outcome.kind !== 'info') outcomeRef.current?.focus();
  }, [outcome]);

  // After a failed check, focus goes to the first field to fix.
  useEffect(() => {
    formRef.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  if (!me) return null;

  if (me.user.sso) {
    return (
      <Layout title="Change Password">
        <Notice>
          You sign in through your organization’s identity provider (SSO): change your password
          there.
        </Notice>
      </Layout>
    );
  }

  function check(): Errors {
    const found: Errors = {};
    if (!current) found.current = 'Enter your current password.';
    if (!next) found.next = 'Enter a new password.';
    if (!confirm) found.confirm = 'Enter the new password again.';
    else if (next && confirm !== next) found.confirm = 'The new passwords do not match.';
    return found;
  }

  function show(error: ApiError) {
    if (error.error === 'invalid_credentials') {
      setErrors({ current: 'Your current password is not correct.' });
    } else if (error.error === 'weak_password' || error.error === 'password_too_long') {
      setErrors({ next: error.message });
    } else if (error.error === 'rate_limited') {
      const minutes = Math.ceil((error.retry_after ?? 900) / 60);
      setOutcome({
        kind: 'error',
        text: `Too many wrong passwords. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      });
    } else {
      setOutcome({ kind: 'error', text: error.message });
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setOutcome(null);
    const found = check();
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    const result = await save.run('change your password');
    setBusy(false);
    if (result === null) {
      setOutcome({ kind: 'info', text: 'Verification was cancelled: your password is unchanged.' });
      return;
    }
    if (!result.ok) return show(result.error);
    setCurrent('');
    setNext('');
    setConfirm('');
    setOutcome({ kind: 'success', text: SUCCESS });
    await refresh();
  }

  const mfaApplies = me.mfa.policy !== 'disabled' && me.mfa.methods.length > 0;
  return (
    <Layout title="Change Password">
      <section className="panel stack" style={{ maxWidth: '34rem' }} aria-label="Change Password">
        <p style={{ color: 'var(--muted)', margin: 0 }}>
          Enter your current password and a new password.
          {mfaApplies &&
            ' Because you use multi-factor authentication, you will confirm the change with a verification code.'}
        </p>
        {outcome && (
          <div ref={outcomeRef} tabIndex={-1} style={{ outline: 'none' }}>
            <Notice kind={outcome.kind}>{outcome.text}</Notice>
          </div>
        )}
        <form ref={formRef} onSubmit={submit} className="stack" noValidate>
          <input
            type="email"
            name="username"
            autoComplete="username"
            value={me.user.email}
            readOnly
            hidden
          />
          <Field
            label="Current password"
            type="password"
            autoComplete="current-password"
            value={current}
            error={errors.current}
            onChange={(event) => setCurrent(event.target.value)}
          />
          <Field
            label="New password"
            type="password"
            autoComplete="new-password"
            hint="At least 8 characters. A long passphrase is best."
            value={next}
            error={errors.next}
            onChange={(event) => setNext(event.target.value)}
          />
          <Field
            label="Confirm new password"
            type="password"
            autoComplete="new-password"
            value={confirm}
            error={errors.confirm}
            onChange={(event) => setConfirm(event.target.value)}
          />
          <div className="actions">
            {/* Not disabled while saving: the button keeps focus, and the modal returns it there. */}
            <Button type="submit" aria-busy={busy || undefined}>
              Save Changes
            </Button>
          </div>
        </form>
      </section>
      {save.modal}
    </Layout>
  );
}
