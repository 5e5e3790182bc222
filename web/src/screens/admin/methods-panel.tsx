import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import {
  api,
  type AllowedMethods,
  type AllowedMethodsBody,
  type AllowedMethodsChanged,
  type OrgMfa,
} from '../../api.ts';
import { Dialog } from '../../components/dialog.tsx';
import { Button, Notice } from '../../components/fields.tsx';
import { describeError, useStepUp } from '../../components/verification.tsx';

const METHODS: { key: keyof AllowedMethods; label: string; text: string }[] = [
  { key: 'totp', label: 'Authenticator App', text: 'Connect any third-party authenticator app.' },
  { key: 'email', label: 'Email', text: 'Receive codes via email.' },
];

/** The verification methods the org allows its users. A sensitive action: step-up applies. */
export function MethodsPanel({ orgMfa, onChanged }: { orgMfa: OrgMfa; onChanged(): void }) {
  const id = useId();
  const saved = orgMfa.methods;
  const [methods, setMethods] = useState<AllowedMethods>(saved);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  useEffect(() => setMethods({ totp: saved.totp, email: saved.email }), [saved.totp, saved.email]);

  const mfaOn = orgMfa.policy !== 'disabled';
  const noneLeft = mfaOn && !methods.totp && !methods.email;
  const changed = methods.totp !== saved.totp || methods.email !== saved.email;

  // Users the change would leave with nothing to verify with: the admin confirms their number.
  const [stranded, setStranded] = useState<number | null>(null);
  const confirmedStranded = useRef<number | null>(null);

  const stepUp = useStepUp<AllowedMethodsChanged>((verification) =>
    api<AllowedMethodsChanged>('PUT', '/org/mfa/methods', {
      ...methods,
      ...(confirmedStranded.current === null
        ? {}
        : { confirm_stranded_users: confirmedStranded.current }),
      ...(verification ? { verification } : {}),
    } satisfies AllowedMethodsBody),
  );

  async function save() {
    setBusy(true);
    setNotice(null);
    const result = await stepUp.run('change the verification methods of your organization');
    setBusy(false);
    confirmedStranded.current = null;
    if (!result) return;
    if (!result.ok && result.error.error === 'methods_strand_users') {
      return setStranded(result.error.stranded_users ?? 0);
    }
    if (!result.ok) return setNotice({ kind: 'error', text: describeError(result.error) });
    setNotice({ kind: 'success', text: 'Verification methods saved.' });
    onChanged();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!changed || noneLeft) return;
    void save();
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <form className="stack" onSubmit={submit}>
        <fieldset className="adm-switches">
          <legend>
            <h2 id={`${id}-title`}>Verification methods</h2>
          </legend>
          <p className="adm-muted">Turn on the verification methods you want users to enable.</p>
          {METHODS.map(({ key, label, text }) => (
            <div key={key} className="adm-switch-row">
              <input
                id={`${id}-${key}`}
                type="checkbox"
                role="switch"
                className="adm-switch"
                checked={methods[key]}
                onChange={(event) => {
                  setNotice(null);
                  setMethods({ ...methods, [key]: event.target.checked });
                }}
                aria-describedby={`${id}-${key}-text`}
              />
              <div>
                <label htmlFor={`${id}-${key}`} className="adm-option-title">
                  {label}
                </label>
                <p id={`${id}-${key}-text`} className="adm-option-text">
                  {text}
                </p>
              </div>
            </div>
          ))}
        </fieldset>
        <p className="adm-muted adm-footnote">
          Turning a method off stops offering it. Users keep what they set up, and it works again if
          you turn the method back on.
        </p>
        {noneLeft && (
          <p className="field-error" role="alert">
            Keep at least one method on while multi-factor authentication is on.
          </p>
        )}
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
        <div className="adm-form-footer">
          <Button type="submit" busy={busy} disabled={!changed || noneLeft}>
            Save methods
          </Button>
        </div>
      </form>
      <Dialog
        title="Turn off a method?"
        open={stranded !== null}
        onCancel={() => setStranded(null)}
      >
        <p>
          {stranded === 1 ? '1 user has' : `${stranded} users have`} no other way to verify: every
          method they set up would be off, and no recovery code is left. They cannot sign in until
          an admin resets their MFA.
        </p>
        <div className="actions">
          <Button
            type="button"
            kind="danger"
            onClick={() => {
              confirmedStranded.current = stranded;
              setStranded(null);
              void save();
            }}
          >
            Turn off anyway
          </Button>
          <Button type="button" kind="secondary" onClick={() => setStranded(null)}>
            Cancel
          </Button>
        </div>
      </Dialog>
      {stepUp.modal}
    </section>
  );
}
