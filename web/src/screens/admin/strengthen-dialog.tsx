import { useEffect, useRef, useState } from 'react';
import {
  api,
  type MfaPolicy,
  type PolicyStrengthened,
  type StrengthenPolicyBody,
} from '../../api.ts';
import { Dialog } from '../../components/dialog.tsx';
import { Button, Notice } from '../../components/fields.tsx';
import { FocusLoop } from './focus-loop.tsx';
import { POLICY_LABELS, POLICY_TEXTS } from './org-mfa.ts';

type Sessions = StrengthenPolicyBody['sessions'];
export type Strengthened = PolicyStrengthened & { sessions: Sessions };

/**
 * Strengthening the policy: a confirmation with exactly three choices (invalidate every session,
 * keep them, cancel). The answer carries the admin's new session (a new cookie) and its status.
 */
export function StrengthenDialog({
  from,
  to,
  adminEnrolled,
  onCancel,
  onDone,
}: {
  from: MfaPolicy;
  to: MfaPolicy;
  adminEnrolled: boolean;
  onCancel(): void;
  onDone(result: Strengthened): void;
}) {
  const [busy, setBusy] = useState<Sessions | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  // The safe choice has the focus first: Enter alone never signs everyone out.
  useEffect(() => cancelRef.current?.focus(), []);

  async function choose(sessions: Sessions) {
    setBusy(sessions);
    setError(null);
    const result = await api<PolicyStrengthened>('PUT', '/org/mfa/policy', {
      policy: to,
      sessions,
    } satisfies StrengthenPolicyBody);
    setBusy(null);
    if (!result.ok) return setError(result.error.message);
    onDone({ ...result.data, sessions });
  }

  const title =
    from === 'disabled'
      ? 'Turn on multi-factor authentication?'
      : 'Require multi-factor authentication?';

  return (
    <Dialog
      title={title}
      open
      onCancel={() => {
        if (!busy) onCancel();
      }}
    >
      <FocusLoop>
        <p>
          The policy changes from <strong>{POLICY_LABELS[from]}</strong> to{' '}
          <strong>{POLICY_LABELS[to]}</strong>: {POLICY_TEXTS[to]}
        </p>
        <p>What happens to the sessions that are active now?</p>
        <ul className="adm-definitions">
          <li>
            <strong>Invalidate all active sessions:</strong> Logs out all users from existing
            sessions across devices and requires them to log in again.
          </li>
          <li>
            <strong>Keep existing sessions:</strong> Allows currently active sessions to remain
            valid until they expire.
          </li>
        </ul>
        {!adminEnrolled && (
          <Notice kind="info">
            You have no verification method yet: right after this change, you set one up.
          </Notice>
        )}
        {error && <Notice kind="error">{error}</Notice>}
        <div className="dialog-footer adm-choices">
          <Button
            type="button"
            kind="danger"
            busy={busy === 'invalidate'}
            disabled={busy !== null}
            onClick={() => choose('invalidate')}
          >
            YES, INVALIDATE SESSIONS
          </Button>
          <Button
            type="button"
            kind="secondary"
            busy={busy === 'keep'}
            disabled={busy !== null}
            onClick={() => choose('keep')}
          >
            NO, KEEP SESSIONS
          </Button>
          <button
            ref={cancelRef}
            type="button"
            className="button button-secondary"
            disabled={busy !== null}
            onClick={onCancel}
          >
            CANCEL
          </button>
        </div>
      </FocusLoop>
    </Dialog>
  );
}
