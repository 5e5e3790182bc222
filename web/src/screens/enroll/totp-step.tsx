import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, type ConfirmSetupBody, type IssuedRecoveryCodes, type TotpSetup } from '../../api.ts';
import { Button, CodeInput, Notice } from '../../components/fields.tsx';
import { describeError } from '../../components/verification.tsx';

/** "ABCDEFGH…" → "ABCD EFGH …": easier to read and type into an app by hand. */
function groupsOfFour(secret: string): string {
  return (secret.replace(/\s/g, '').match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * Scan the QR code (or type the key), then enter the app's 6-digit code to confirm.
 * The QR code is an SVG made by our own server, so it is inserted as markup.
 */
export function TotpStep({
  setup,
  onConfirmed,
  onRestart,
}: {
  setup: TotpSetup;
  onConfirmed(codes: string[]): void;
  onRestart(): void;
}) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  useEffect(() => headingRef.current?.focus(), []);

  async function copyKey() {
    await navigator.clipboard?.writeText(setup.secret).catch(() => undefined);
    setCopied(true);
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    if (code.length !== 6) return setError('Enter the 6-digit code shown in your app.');
    setBusy(true);
    setError(null);
    const result = await api<IssuedRecoveryCodes>('POST', '/me/mfa/totp/confirm', {
      code,
    } satisfies ConfirmSetupBody);
    setBusy(false);
    if (result.ok) return onConfirmed(result.data.recovery_codes);
    setCode('');
    if (result.error.error === 'no_pending_setup') setExpired(true);
    else setError(describeError(result.error));
  }

  return (
    <section className="stack" aria-labelledby="totp-step-title">
      <h2 id="totp-step-title" ref={headingRef} tabIndex={-1}>
        Authenticator App
      </h2>
      <ol className="enroll-steps">
        <li>
          <p>Scan this QR code with your authenticator app.</p>
          <div
            className="qr"
            role="img"
            aria-label="QR code for your authenticator app"
            dangerouslySetInnerHTML={{ __html: setup.qr_svg }}
          />
          <p className="field-hint">
            Tip: popular authenticator apps include Google Authenticator and Apple Passwords.
          </p>
        </li>
        <li>
          <p>Cannot scan it? Enter this key in the app instead.</p>
          <div className="key-box">
            <code className="secret">{groupsOfFour(setup.secret)}</code>
            <Button type="button" kind="secondary" onClick={copyKey}>
              {copied ? 'Copied' : 'Copy key'}
            </Button>
          </div>
        </li>
        <li>
          <p>Enter the one-time code from the app to confirm.</p>
          {expired ? (
            <div className="stack">
              <Notice kind="warning">
                This setup expired before it was confirmed. Start again to get a new QR code; remove
                the old entry from your app.
              </Notice>
              <Button type="button" onClick={onRestart}>
                Start again
              </Button>
            </div>
          ) : (
            <form className="stack" onSubmit={confirm} noValidate>
              <CodeInput
                label="6-digit code"
                value={code}
                onChange={setCode}
                error={error}
                autoFocus={false}
              />
              <Button type="submit" busy={busy}>
                {busy ? 'Confirming…' : 'Confirm'}
              </Button>
            </form>
          )}
        </li>
      </ol>
    </section>
  );
}
