import { useEffect, useRef, useState } from 'react';
import type { ApiError, OrgUser } from '../../api.ts';
import { Dialog } from '../../components/dialog.tsx';
import { FocusLoop } from './focus-loop.tsx';
import { Button, Notice } from '../../components/fields.tsx';
import { describeError, useStepUp } from '../../components/verification.tsx';
import { convertUserToSso } from './users-api.ts';

/** Refusals that mean the row behind the dialog is out of date: trying again cannot succeed. */
const STALE = new Set(['not_found', 'sso_user', 'sso_not_configured']);

function describeConvertError(error: ApiError, user: OrgUser): string {
  switch (error.error) {
    case 'sso_not_configured':
      return 'Your organization no longer has a single sign-on connection. Connect an identity provider under Single sign-on first.';
    case 'sso_user':
      return `${user.name} already signs in through your identity provider.`;
    case 'own_account':
      return 'You cannot convert your own account. Another admin can do it for you.';
    case 'not_found':
      return `${user.name} is no longer a user of your organization.`;
    default:
      return describeError(error);
  }
}

/**
 * "Convert to SSO": a confirmation, then (when MFA applies to the admin) the "Verification
 * Required" modal on top of it; the conversion runs with the verification in the same request.
 */
export function ConvertToSsoFlow({
  user,
  onClose,
  onConverted,
  onStale,
}: {
  user: OrgUser;
  onClose(): void;
  onConverted(user: OrgUser): void;
  /** The users list no longer matches the server (the user is gone, or already SSO). */
  onStale(): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  // The safe choice has the focus first.
  useEffect(() => cancelRef.current?.focus(), []);
  // Once "Convert to SSO" is gone, the focus must not be left on nothing.
  useEffect(() => {
    if (stale) cancelRef.current?.focus();
  }, [stale]);
  const stepUp = useStepUp<null>((verification) => convertUserToSso(user.id, verification));

  async function confirm() {
    setBusy(true);
    setError(null);
    const result = await stepUp.run(`convert ${user.name} to SSO`);
    setBusy(false);
    if (!result) return onClose();
    if (!result.ok) {
      setError(describeConvertError(result.error, user));
      if (STALE.has(result.error.error)) {
        setStale(true);
        onStale();
      }
      return;
    }
    onConverted(user);
  }

  return (
    <>
      <Dialog
        title="Convert to SSO"
        open
        onCancel={() => {
          if (!busy) onClose();
        }}
      >
        <FocusLoop>
          <p>
            Convert <strong>{user.name}</strong> to SSO? Their password, verification methods and
            recovery codes are removed and they are signed out everywhere. From now on they sign in
            through your identity provider.
          </p>
          <p className="adm-muted adm-break">{user.email}</p>
          {error && <Notice kind="error">{error}</Notice>}
          <div className="actions">
            {!stale && (
              <Button type="button" kind="danger" busy={busy} onClick={() => void confirm()}>
                Convert to SSO
              </Button>
            )}
            <button
              ref={cancelRef}
              type="button"
              className="button button-secondary"
              disabled={busy}
              onClick={onClose}
            >
              {stale ? 'Close' : 'Cancel'}
            </button>
          </div>
        </FocusLoop>
      </Dialog>
      {stepUp.modal}
    </>
  );
}
