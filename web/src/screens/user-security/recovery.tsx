import { useEffect, useRef, useState } from 'react';
import { api, type IssuedRecoveryCodes, type Me } from '../../api.ts';
import { Button, Notice } from '../../components/fields.tsx';
import { RecoveryCodes } from '../../components/recovery-codes.tsx';
import { describeError, useStepUp } from '../../components/verification.tsx';
import { useSession } from '../../session.tsx';
import { muted, sectionHeading } from './format.tsx';

const TOTAL = 10;
const LOW = 2;

/**
 * Recovery codes: how many are left (a warning at 2 or fewer: a user who runs out and loses the
 * other methods can no longer verify) and "Regenerate", which asks for a verification and shows the
 * new set once.
 */
export function RecoveryCodesSection({ me }: { me: Me }) {
  const { refresh } = useSession();
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [focusTarget, setFocusTarget] = useState<'codes' | 'section' | null>(null);
  const codesRef = useRef<HTMLDivElement>(null);
  const sectionRef = useRef<HTMLHeadingElement>(null);

  const regenerate = useStepUp<IssuedRecoveryCodes>((verification) =>
    api<IssuedRecoveryCodes>('POST', '/me/recovery-codes', verification ? { verification } : {}),
  );

  useEffect(() => {
    if (focusTarget === 'codes') codesRef.current?.focus();
    if (focusTarget === 'section') sectionRef.current?.focus();
  }, [focusTarget, codes]);

  async function start() {
    if (busy) return;
    setBusy(true);
    setError(null);
    setFocusTarget(null);
    const result = await regenerate.run('replace your recovery codes');
    setBusy(false);
    if (result === null) return;
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    setCodes(result.data.recovery_codes);
    setFocusTarget('codes');
    await refresh();
  }

  const left = me.mfa.recovery_codes_remaining;
  return (
    <section
      className="panel stack"
      aria-labelledby={codes ? 'recovery-codes-title' : 'recovery-title'}
    >
      {!codes && (
        <h2
          id="recovery-title"
          ref={sectionRef}
          tabIndex={-1}
          style={{ ...sectionHeading, outline: 'none' }}
        >
          Recovery codes
        </h2>
      )}
      {codes ? (
        <div ref={codesRef} tabIndex={-1} style={{ outline: 'none' }}>
          <Notice kind="success">
            New recovery codes were created. Your old codes no longer work.
          </Notice>
          <div style={{ marginTop: '1rem' }}>
            <RecoveryCodes
              codes={codes}
              orgName={me.user.org.name}
              doneLabel="Done"
              onDone={() => {
                setCodes(null);
                setFocusTarget('section');
              }}
            />
          </div>
        </div>
      ) : (
        <>
          <p style={muted}>
            Recovery codes are single-use. Use one to verify if you lose access to your methods.
          </p>
          <p style={{ margin: 0, fontWeight: 600 }}>
            {left} of {TOTAL} recovery codes left
          </p>
          {left <= LOW && (
            <Notice kind="warning">
              {left === 0
                ? 'You have no recovery codes left. '
                : `Only ${left} recovery code${left === 1 ? '' : 's'} left. `}
              If you run out, you can't verify your account when you lose access to your methods:
              regenerate a new set now.
            </Notice>
          )}
          {error && <Notice kind="error">{error}</Notice>}
          <div className="actions" style={{ marginTop: 0 }}>
            <Button type="button" kind="secondary" aria-busy={busy || undefined} onClick={start}>
              Regenerate
            </Button>
          </div>
          <p style={{ ...muted, fontSize: '0.9rem' }}>
            Regenerating replaces all your codes: the old ones stop working.
          </p>
        </>
      )}
      {regenerate.modal}
    </section>
  );
}
