import { useEffect, useState, type FormEvent } from 'react';
import {
  api,
  type ApiError,
  type CodeSent,
  type Verification,
  type VerificationMethod,
} from '../api.ts';
import { Dialog } from './dialog.tsx';
import { Button, CodeInput, Notice } from './fields.tsx';

export const METHOD_LABELS: Record<VerificationMethod, string> = {
  totp: 'Authenticator App',
  email: 'Email',
  recovery_code: 'Recovery Code',
  sso: 'Identity provider',
};

/** Set by the SSO callback when an SSO user came back from re-authenticating for a step-up. */
function consumeSsoVerified(): boolean {
  const url = new URL(window.location.href);
  if (url.searchParams.get('sso') !== 'verified') return false;
  url.searchParams.delete('sso');
  window.history.replaceState(null, '', `${url.pathname}${url.search}`);
  return true;
}

const RESEND_SECONDS = 30;

export function describeError(error: ApiError): string {
  if (error.error === 'invalid_code')
    return 'That code is not right, or it has expired. Check it and try again.';
  if (error.error === 'too_many_attempts') {
    const minutes = Math.ceil((error.retry_after ?? 900) / 60);
    return `Too many wrong codes. Verification is locked for ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  }
  if (error.error === 'rate_limited' && error.retry_after) {
    return `Please wait ${error.retry_after} seconds before asking again.`;
  }
  return error.message;
}

/**
 * The verification step: one method → its code; two → the user chooses; a recovery code is
 * always possible when some are left. Used at sign-in and, in a modal, for sensitive actions.
 */
export function VerificationForm({
  methods,
  ssoUrl,
  submitLabel = 'Verify',
  onSubmit,
  onCancel,
}: {
  methods: VerificationMethod[];
  ssoUrl?: string;
  submitLabel?: string;
  /** Resolves to an error to show, or null when done. */
  onSubmit(verification: Verification): Promise<ApiError | null>;
  onCancel?: () => void;
}) {
  const codeMethods = methods.filter((m) => m !== 'recovery_code' && m !== 'sso');
  const [method, setMethod] = useState<VerificationMethod>(codeMethods[0] ?? 'recovery_code');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentAt, setSentAt] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    if (sentAt === null) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [sentAt]);
  const resendIn =
    sentAt === null ? 0 : Math.max(0, RESEND_SECONDS - Math.floor((now - sentAt) / 1000));

  if (methods.includes('sso')) {
    const back = encodeURIComponent(window.location.pathname + window.location.search);
    return (
      <div className="stack">
        <p>
          Your identity provider confirms it is you: sign in there again, then repeat this change
          within 5 minutes.
        </p>
        <div className="actions">
          <a className="button button-primary" href={`${ssoUrl ?? ''}&return_to=${back}`}>
            Continue with your identity provider
          </a>
          {onCancel && (
            <Button type="button" kind="secondary" onClick={onCancel}>
              Cancel
            </Button>
          )}
        </div>
      </div>
    );
  }

  if (methods.length === 0) {
    return (
      <Notice kind="warning">
        <strong>No verification options.</strong> No verification method is enabled for your
        account, or you have not set one up yet. Ask your admin to reset your MFA.
      </Notice>
    );
  }

  async function sendEmailCode() {
    setError(null);
    const result = await api<CodeSent>('POST', '/auth/verification/email');
    if (!result.ok) return setError(describeError(result.error));
    setSentAt(Date.now());
    setNow(Date.now());
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const failure = await onSubmit({ method, code });
    setBusy(false);
    if (failure) {
      setError(describeError(failure));
      setCode('');
    }
  }

  return (
    <form onSubmit={submit} className="stack">
      {codeMethods.length === 0 && (
        <Notice>
          Only <strong>Recovery Code</strong> is available: your verification methods are not
          enabled by your organization. Enter one of your recovery codes.
        </Notice>
      )}
      {codeMethods.length > 1 && (
        <fieldset className="choice">
          <legend>Verify with</legend>
          {codeMethods.map((m) => (
            <label key={m} className="choice-option">
              <input
                type="radio"
                name="verification-method"
                value={m}
                checked={method === m}
                onChange={() => {
                  setMethod(m);
                  setCode('');
                  setError(null);
                }}
              />
              {METHOD_LABELS[m]}
            </label>
          ))}
        </fieldset>
      )}
      {method === 'totp' && <p>Enter the 6-digit code from your authenticator app.</p>}
      {method === 'email' && (
        <div className="row">
          <p>We email a 6-digit code to your account address.</p>
          <Button type="button" kind="secondary" onClick={sendEmailCode} disabled={resendIn > 0}>
            {sentAt === null
              ? 'Send code'
              : resendIn > 0
                ? `Resend in ${resendIn} s`
                : 'Resend code'}
          </Button>
        </div>
      )}
      {method === 'recovery_code' && codeMethods.length > 0 && (
        <p>Enter one of your recovery codes. Each works once.</p>
      )}
      <CodeInput
        key={method}
        label={method === 'recovery_code' ? 'Recovery code' : 'Verification code'}
        recovery={method === 'recovery_code'}
        value={code}
        onChange={setCode}
        error={error}
      />
      <div className="actions">
        <Button type="submit" busy={busy} disabled={code.length === 0}>
          {submitLabel}
        </Button>
        {onCancel && (
          <Button type="button" kind="secondary" onClick={onCancel}>
            Cancel
          </Button>
        )}
      </div>
      {methods.includes('recovery_code') && method !== 'recovery_code' && (
        <Button
          type="button"
          kind="link"
          onClick={() => {
            setMethod('recovery_code');
            setCode('');
            setError(null);
          }}
        >
          Use a recovery code
        </Button>
      )}
      {method === 'recovery_code' && codeMethods.length > 0 && (
        <Button type="button" kind="link" onClick={() => setMethod(codeMethods[0]!)}>
          Use {METHOD_LABELS[codeMethods[0]!]} instead
        </Button>
      )}
    </form>
  );
}

/**
 * "Verification Required": shown when an action answers 403 verification_required; the action is
 * sent again with the verification, which it consumes. It names the action it confirms, so that a
 * code is never typed without knowing what it allows.
 */
export function VerificationModal({
  open,
  purpose,
  methods,
  ssoUrl,
  onCancel,
  onSubmit,
}: {
  open: boolean;
  /** What the code allows, completing "Confirm it is you to …", e.g. "change your password". */
  purpose: string;
  methods: VerificationMethod[];
  ssoUrl?: string;
  onCancel(): void;
  onSubmit(verification: Verification): Promise<ApiError | null>;
}) {
  return (
    <Dialog title="Verification Required" open={open} onCancel={onCancel}>
      <p>Confirm it is you to {purpose}: this change needs a fresh verification.</p>
      <VerificationForm
        methods={methods}
        {...(ssoUrl ? { ssoUrl } : {})}
        submitLabel="Confirm"
        onSubmit={onSubmit}
        onCancel={onCancel}
      />
    </Dialog>
  );
}

/**
 * Runs a sensitive action; when it answers verification_required, opens the modal (naming the
 * purpose given to run) and replays the action with the code. Returns { run, modal element }.
 */
export function useStepUp<T>(
  action: (
    verification?: Verification,
  ) => Promise<{ ok: true; data: T } | { ok: false; error: ApiError }>,
) {
  const [methods, setMethods] = useState<VerificationMethod[] | null>(null);
  const [ssoUrl, setSsoUrl] = useState<string | undefined>(undefined);
  const [purpose, setPurpose] = useState('');
  const [pending, setPending] = useState<{
    resolve(value: { ok: true; data: T } | { ok: false; error: ApiError } | null): void;
  } | null>(null);

  async function run(actionPurpose: string) {
    // Back from re-authenticating at the identity provider: the first try carries it.
    const first = await action(consumeSsoVerified() ? { method: 'sso', code: '' } : undefined);
    if (first.ok || first.error.error !== 'verification_required') return first;
    setPurpose(actionPurpose);
    setMethods((first.error.methods ?? []) as VerificationMethod[]);
    setSsoUrl(first.error.sso_url);
    return new Promise<{ ok: true; data: T } | { ok: false; error: ApiError } | null>((resolve) =>
      setPending({ resolve }),
    );
  }

  const modal = (
    <VerificationModal
      open={methods !== null}
      purpose={purpose}
      methods={methods ?? []}
      {...(ssoUrl ? { ssoUrl } : {})}
      onCancel={() => {
        setMethods(null);
        pending?.resolve(null);
      }}
      onSubmit={async (verification) => {
        const result = await action(verification);
        if (
          !result.ok &&
          ['invalid_code', 'too_many_attempts', 'rate_limited'].includes(result.error.error)
        ) {
          return result.error;
        }
        setMethods(null);
        pending?.resolve(result);
        return null;
      }}
    />
  );
  return { run, modal };
}
