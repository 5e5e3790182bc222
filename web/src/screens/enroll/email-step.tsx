import { useEffect, useState, type FormEvent } from 'react';
import { api, type ConfirmSetupBody, type IssuedRecoveryCodes } from '../../api.ts';
import { Button, CodeInput, Notice } from '../../components/fields.tsx';
import { describeError } from '../../components/verification.tsx';

const RESEND_SECONDS = 30;

/** Enrolling email: a one-time code goes to the user's inbox; typing it back confirms. */
export function EmailStep({
  email,
  sentAt,
  onResend,
  onConfirmed,
}: {
  email: string;
  sentAt: number;
  /** Sends a new code; resolves to an error to show, or null. */
  onResend(): Promise<string | null>;
  onConfirmed(codes: string[]): void;
}) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [resendError, setResendError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [resending, setResending] = useState(false);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [sentAt]);
  const resendIn = Math.max(0, RESEND_SECONDS - Math.floor((now - sentAt) / 1000));

  async function confirm(event: FormEvent) {
    event.preventDefault();
    if (code.length !== 6) return setError('Enter the 6-digit code from the email.');
    setBusy(true);
    setError(null);
    const result = await api<IssuedRecoveryCodes>('POST', '/me/mfa/email/confirm', {
      code,
    } satisfies ConfirmSetupBody);
    setBusy(false);
    if (result.ok) return onConfirmed(result.data.recovery_codes);
    setCode('');
    setError(
      result.error.error === 'no_pending_setup'
        ? 'This code has expired. Send a new one.'
        : describeError(result.error),
    );
  }

  async function resend() {
    setResending(true);
    setResendError(null);
    const failure = await onResend();
    setResending(false);
    if (failure) setResendError(failure);
    else {
      setCode('');
      setError(null);
    }
  }

  return (
    <section className="stack" aria-labelledby="email-step-title">
      <h2 id="email-step-title">Email</h2>
      <Notice>
        We sent a 6-digit code to <strong>{email}</strong>. Check your inbox and enter the code to
        confirm. It works for 5 minutes.
      </Notice>
      <form className="stack" onSubmit={confirm} noValidate>
        <CodeInput value={code} onChange={setCode} error={error} />
        <Button type="submit" busy={busy}>
          {busy ? 'Confirming…' : 'Confirm'}
        </Button>
      </form>
      <div className="row">
        <span className="field-hint">No email?</span>
        <Button
          type="button"
          kind="secondary"
          onClick={resend}
          busy={resending}
          disabled={resendIn > 0}
        >
          {resendIn > 0 ? `Resend in ${resendIn} s` : 'Resend code'}
        </Button>
      </div>
      {resendError && <Notice kind="error">{resendError}</Notice>}
    </section>
  );
}
