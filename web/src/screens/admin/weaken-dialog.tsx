import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import {
  api,
  type ConfirmWeakeningBody,
  type MfaPolicy,
  type PolicyWeakened,
  type WeakenPolicyBody,
  type WeakeningRequested,
} from '../../api.ts';
import { Dialog } from '../../components/dialog.tsx';
import { FocusLoop } from './focus-loop.tsx';
import { Button, CodeInput, Notice } from '../../components/fields.tsx';
import { describeError } from '../../components/verification.tsx';
import { POLICY_LABELS, POLICY_TEXTS, deadlineFrom, formatCountdown } from './org-mfa.ts';

const CODE_SECONDS = 5 * 60;

type Step =
  | { kind: 'sending' }
  | { kind: 'sent'; requestId: string; deadline: number }
  | { kind: 'wait'; until: number }
  | { kind: 'failed'; message: string };

/**
 * Weakening the policy takes a 6-digit code emailed to the admin, valid 5 minutes. Each opening of
 * the dialog is a new request; closing it or letting the code expire means starting again.
 */
export function WeakenDialog({
  from,
  to,
  email,
  onCancel,
  onDone,
}: {
  from: MfaPolicy;
  to: WeakenPolicyBody['policy'];
  email: string;
  onCancel(): void;
  onDone(policy: MfaPolicy): void;
}) {
  const [step, setStep] = useState<Step>({ kind: 'sending' });
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const started = useRef(false);

  const send = useCallback(async () => {
    setStep({ kind: 'sending' });
    setCode('');
    setCodeError(null);
    const result = await api<WeakeningRequested>('POST', '/org/mfa/policy/weaken', {
      policy: to,
    } satisfies WeakenPolicyBody);
    setNow(Date.now());
    if (result.ok) {
      const deadline = deadlineFrom(result.data.expires_at, CODE_SECONDS);
      setStep({ kind: 'sent', requestId: result.data.request_id, deadline });
    } else if (result.error.error === 'rate_limited') {
      setStep({ kind: 'wait', until: Date.now() + (result.error.retry_after ?? 30) * 1000 });
    } else if (result.error.error === 'email_unavailable') {
      setStep({
        kind: 'failed',
        message: `We could not send the email to ${email} just now. Try again in a moment.`,
      });
    } else {
      setStep({ kind: 'failed', message: result.error.message });
    }
  }, [to, email]);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void send();
  }, [send]);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  async function confirm(event: FormEvent) {
    event.preventDefault();
    if (step.kind !== 'sent' || code.length !== 6) return;
    setBusy(true);
    setCodeError(null);
    const result = await api<PolicyWeakened>('POST', '/org/mfa/policy/weaken/confirm', {
      request_id: step.requestId,
      code,
    } satisfies ConfirmWeakeningBody);
    setBusy(false);
    if (result.ok) return onDone(result.data.policy);
    setCode('');
    if (result.error.error === 'invalid_code') {
      setCodeError('That code is not right, or it has expired. Check the email and try again.');
    } else if (result.error.error === 'policy_changed') {
      setStep({ kind: 'failed', message: result.error.message });
    } else {
      setCodeError(describeError(result.error));
    }
  }

  const expired = step.kind === 'sent' && now >= step.deadline;
  const waitLeft = step.kind === 'wait' ? Math.max(0, Math.ceil((step.until - now) / 1000)) : 0;
  const title =
    to === 'disabled'
      ? 'Turn off multi-factor authentication?'
      : 'Make multi-factor authentication optional?';
  const cancel = (
    <Button type="button" kind="secondary" onClick={onCancel}>
      Cancel
    </Button>
  );
  const sendAgain = (label: string, disabled = false) => (
    <Button type="button" onClick={() => void send()} disabled={disabled}>
      {label}
    </Button>
  );

  return (
    <Dialog title={title} open onCancel={onCancel}>
      <FocusLoop>
        <p>
          The policy changes from <strong>{POLICY_LABELS[from]}</strong> to{' '}
          <strong>{POLICY_LABELS[to]}</strong>: {POLICY_TEXTS[to]}
        </p>
        {step.kind === 'sending' && (
          <>
            <p role="status">Sending a 6-digit code to {email}…</p>
            <div className="actions">{cancel}</div>
          </>
        )}
        {step.kind === 'sent' && !expired && (
          <form className="stack" onSubmit={confirm}>
            <div className="adm-sent">
              <p>
                We sent a 6-digit code to <strong>{email}</strong>. Enter it to confirm the change.
              </p>
              <p className="adm-timer">
                Code expires in{' '}
                <span role="timer" aria-live="off">
                  {formatCountdown((step.deadline - now) / 1000)}
                </span>
              </p>
            </div>
            <CodeInput
              label="Code from the email"
              value={code}
              onChange={setCode}
              error={codeError}
            />
            <div className="actions">
              <Button type="submit" kind="danger" busy={busy} disabled={code.length !== 6}>
                Confirm
              </Button>
              {cancel}
            </div>
          </form>
        )}
        {expired && (
          <>
            <Notice kind="warning">The code expired. Send a new code to start again.</Notice>
            <div className="actions">
              {sendAgain('Send a new code')}
              {cancel}
            </div>
          </>
        )}
        {step.kind === 'wait' && (
          <>
            <Notice kind="info">
              A code was sent to {email} moments ago.{' '}
              {waitLeft > 0
                ? `You can ask for a new one in ${waitLeft} s.`
                : 'You can ask for a new one now.'}
            </Notice>
            <div className="actions">
              {sendAgain('Send a new code', waitLeft > 0)}
              {cancel}
            </div>
          </>
        )}
        {step.kind === 'failed' && (
          <>
            <Notice kind="error">{step.message}</Notice>
            <div className="actions">
              {sendAgain('Try again')}
              {cancel}
            </div>
          </>
        )}
      </FocusLoop>
    </Dialog>
  );
}
