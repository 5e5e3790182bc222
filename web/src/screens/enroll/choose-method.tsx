import { useId, useState, type FormEvent } from 'react';
import type { MfaMethod } from '../../api.ts';
import { Button, Notice } from '../../components/fields.tsx';
import { METHOD_LABELS } from '../../components/verification.tsx';

/** What each method is, in the user's words. */
function description(method: MfaMethod, email: string): string {
  return method === 'totp'
    ? 'Use any third-party authenticator app for verification codes.'
    : `Receive codes via email, at ${email}.`;
}

/** Authenticator App or Email, when the org allows both and the user has neither. */
export function ChooseMethod({
  available,
  email,
  busy,
  error,
  onChoose,
}: {
  available: MfaMethod[];
  email: string;
  busy: boolean;
  error: string | null;
  onChoose(method: MfaMethod): void;
}) {
  const id = useId();
  const [choice, setChoice] = useState<MfaMethod>(available[0] ?? 'totp');

  function submit(event: FormEvent) {
    event.preventDefault();
    onChoose(choice);
  }

  return (
    <form className="stack" onSubmit={submit}>
      {available.length > 1 ? (
        <fieldset className="method-options">
          <legend>Choose a verification method</legend>
          {available.map((method) => (
            <label key={method} className="method-option">
              <input
                type="radio"
                name="method"
                value={method}
                checked={choice === method}
                onChange={() => setChoice(method)}
                aria-labelledby={`${id}-${method}-label`}
                aria-describedby={`${id}-${method}-description`}
              />
              <strong id={`${id}-${method}-label`}>{METHOD_LABELS[method]}</strong>
              <span id={`${id}-${method}-description`}>{description(method, email)}</span>
            </label>
          ))}
        </fieldset>
      ) : (
        <p>
          <strong>{METHOD_LABELS[choice]}</strong>: {description(choice, email)}
        </p>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      <Button type="submit" busy={busy}>
        {busy ? 'Starting…' : 'Continue'}
      </Button>
    </form>
  );
}
