import { useId, useState, type FormEvent } from 'react';
import { Button, Notice } from '../../components/fields.tsx';
import { METHOD_LABELS } from '../../components/verification.tsx';

export type EnrollMethod = 'totp' | 'email';

/** Seed 004's words for each method. */
function description(method: EnrollMethod, email: string): string {
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
  available: EnrollMethod[];
  email: string;
  busy: boolean;
  error: string | null;
  onChoose(method: EnrollMethod): void;
}) {
  const id = useId();
  const [choice, setChoice] = useState<EnrollMethod>(available[0] ?? 'totp');

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
