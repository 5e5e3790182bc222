import { useEffect, useRef, useState } from 'react';
import { api, type OrgUser } from '../../api.ts';
import { Dialog } from '../../components/dialog.tsx';
import { FocusLoop } from './focus-loop.tsx';
import { Button, Notice } from '../../components/fields.tsx';
import { describeError, useStepUp } from '../../components/verification.tsx';

/**
 * Reset MFA, for a user who lost their authenticator: a confirmation, then (when MFA applies to the
 * admin) the "Verification Required" modal on top of it; the reset runs with the verification in
 * the same request.
 */
export function ResetMfaFlow({
  user,
  onClose,
  onReset,
}: {
  user: OrgUser;
  onClose(): void;
  onReset(user: OrgUser): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  // The safe choice has the focus first.
  useEffect(() => cancelRef.current?.focus(), []);
  const stepUp = useStepUp<null>((verification) =>
    api<null>('POST', `/org/users/${user.id}/mfa/reset`, verification ? { verification } : {}),
  );

  async function confirm() {
    setBusy(true);
    setError(null);
    const result = await stepUp.run(`reset MFA for ${user.name}`);
    setBusy(false);
    if (!result) return onClose();
    if (!result.ok) return setError(describeError(result.error));
    onReset(user);
  }

  return (
    <>
      <Dialog
        title="Reset MFA"
        open
        onCancel={() => {
          if (!busy) onClose();
        }}
      >
        <FocusLoop>
          <p>
            Reset MFA for <strong>{user.name}</strong>? Their verification methods and recovery
            codes are removed and they are signed out everywhere. They enroll again at their next
            sign-in if your organization requires it.
          </p>
          <p className="adm-muted adm-break">{user.email}</p>
          {error && <Notice kind="error">{error}</Notice>}
          <div className="actions">
            <Button type="button" kind="danger" busy={busy} onClick={() => void confirm()}>
              Reset MFA
            </Button>
            <button
              ref={cancelRef}
              type="button"
              className="button button-secondary"
              disabled={busy}
              onClick={onClose}
            >
              Cancel
            </button>
          </div>
        </FocusLoop>
      </Dialog>
      {stepUp.modal}
    </>
  );
}
