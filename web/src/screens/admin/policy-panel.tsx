import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { MfaPolicy, OrgMfa, WeakenPolicyBody } from '../../api.ts';
import { Button, Notice } from '../../components/fields.tsx';
import { useRouter } from '../../router.tsx';
import { useSession } from '../../session.tsx';
import { POLICIES, POLICY_LABELS, POLICY_TEXTS, isStronger } from './org-mfa.ts';
import { StrengthenDialog, type Strengthened } from './strengthen-dialog.tsx';
import { WeakenDialog } from './weaken-dialog.tsx';

type Change =
  | { kind: 'strengthen'; to: MfaPolicy; attempt: number }
  | { kind: 'weaken'; to: WeakenPolicyBody['policy']; attempt: number };

/**
 * "Multi-Factor": Disabled / Enabled / Required. Saving a stronger policy asks whether the active
 * sessions end or are kept; saving a weaker one needs a code emailed to the admin.
 */
export function PolicyPanel({ orgMfa, onChanged }: { orgMfa: OrgMfa; onChanged(): void }) {
  const { me, refresh } = useSession();
  const { navigate } = useRouter();
  const id = useId();
  const current = orgMfa.policy;
  const [selected, setSelected] = useState<MfaPolicy>(current);
  const [change, setChange] = useState<Change | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const fieldsetRef = useRef<HTMLFieldSetElement>(null);

  useEffect(() => setSelected(current), [current]);

  const noMethods = !orgMfa.methods.totp && !orgMfa.methods.email;
  const blocked = noMethods && selected !== 'disabled' && isStronger(selected, current);
  const email = me?.user.email ?? 'your email address';
  const adminEnrolled = (me?.mfa.methods.length ?? 0) > 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (selected === current || blocked) return;
    setNotice(null);
    const attempt = Date.now();
    setChange(
      selected === 'required' || isStronger(selected, current)
        ? { kind: 'strengthen', to: selected, attempt }
        : { kind: 'weaken', to: selected, attempt },
    );
  }

  function cancel() {
    setChange(null);
    setSelected(current);
    // The Save button is disabled again: keyboard focus goes back to the policy in force.
    requestAnimationFrame(() =>
      fieldsetRef.current?.querySelector<HTMLInputElement>('input:checked')?.focus(),
    );
  }

  async function strengthened({ policy, session, sessions }: Strengthened) {
    setChange(null);
    // The answer set a new session cookie: read the session again before going on.
    const next = await refresh();
    if (
      session.status === 'enrollment_required' ||
      next?.session.status === 'enrollment_required'
    ) {
      navigate('/enroll');
      return;
    }
    setNotice(
      `Multi-factor authentication is now ${POLICY_LABELS[policy]}. ` +
        (sessions === 'invalidate'
          ? 'Everyone else was signed out and signs in again.'
          : 'Active sessions stay valid until they expire.'),
    );
    onChanged();
  }

  function weakened(policy: MfaPolicy) {
    setChange(null);
    setNotice(`Multi-factor authentication is now ${POLICY_LABELS[policy]}.`);
    void refresh();
    onChanged();
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <form className="stack" onSubmit={submit}>
        <fieldset className="adm-options" ref={fieldsetRef}>
          <legend>
            <h2 id={`${id}-title`}>Multi-Factor</h2>
          </legend>
          <p className="adm-muted">
            Applies to users who sign in with a password. SSO users verify with their identity
            provider.
          </p>
          {POLICIES.map((policy) => (
            <label
              key={policy}
              className={selected === policy ? 'adm-option adm-option-selected' : 'adm-option'}
            >
              <input
                type="radio"
                name={`${id}-policy`}
                value={policy}
                checked={selected === policy}
                onChange={() => setSelected(policy)}
                aria-labelledby={`${id}-${policy}-label`}
                aria-describedby={`${id}-${policy}-text`}
              />
              <span className="adm-option-body">
                <span className="adm-option-head">
                  <span id={`${id}-${policy}-label`} className="adm-option-title">
                    {POLICY_LABELS[policy]}
                  </span>
                  {policy === current && <span className="badge adm-badge-current">Current</span>}
                </span>
                <span id={`${id}-${policy}-text`} className="adm-option-text">
                  {POLICY_TEXTS[policy]}
                </span>
              </span>
            </label>
          ))}
        </fieldset>
        {blocked && (
          <Notice kind="warning">
            Turn on at least one verification method below before turning multi-factor
            authentication on.
          </Notice>
        )}
        {notice && <Notice kind="success">{notice}</Notice>}
        <div className="adm-form-footer">
          <Button type="submit" disabled={selected === current || blocked}>
            Save policy
          </Button>
          {selected !== current && !blocked && (
            <p className="adm-muted adm-footnote">
              {isStronger(selected, current)
                ? 'Next, you choose what happens to the sessions that are active now.'
                : `To confirm, we email a 6-digit code to ${email}.`}
            </p>
          )}
        </div>
      </form>
      {change?.kind === 'strengthen' && (
        <StrengthenDialog
          key={change.attempt}
          from={current}
          to={change.to}
          adminEnrolled={adminEnrolled}
          onCancel={cancel}
          onDone={strengthened}
        />
      )}
      {change?.kind === 'weaken' && (
        <WeakenDialog
          key={change.attempt}
          from={current}
          to={change.to}
          email={email}
          onCancel={cancel}
          onDone={weakened}
        />
      )}
    </section>
  );
}
