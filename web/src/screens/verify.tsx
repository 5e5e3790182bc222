import { useState } from 'react';
import { api, type ApiError, type SessionState, type Verification } from '../api.ts';
import { Button } from '../components/fields.tsx';
import { CardPage } from '../components/layout.tsx';
import { VerificationForm } from '../components/verification.tsx';
import { useRouter } from '../router.tsx';
import { homeFor, useSession } from '../session.tsx';
import {
  forgetMethods,
  keptMethods,
  methodsFromMe,
  safeNext,
  signOut,
  withNext,
} from './auth-flow.ts';
import './sign-in-flows.css';

/** The second step of sign-in: a code from a method the user has, or a recovery code. */
export function VerifyScreen() {
  const { me, refresh, signedOut } = useSession();
  const { search, navigate } = useRouter();
  const next = safeNext(search.get('next'));
  // Signed in already: an app's sign-in asks for a fresh factor (acr_values, max_age).
  const again = me?.session.status === 'authenticated';
  // The login answer's methods when this tab signed in; otherwise what the profile says.
  const [methods] = useState(() =>
    again ? methodsFromMe(me) : (keptMethods() ?? (me ? methodsFromMe(me) : [])),
  );
  const [leaving, setLeaving] = useState(false);

  async function verify(verification: Verification): Promise<ApiError | null> {
    if (again) {
      const result = await api<SessionState>('POST', '/auth/reauthenticate', verification);
      if (!result.ok) return result.error;
      navigate(next ?? homeFor(me), { replace: true });
      return null;
    }
    const result = await api<SessionState>('POST', '/auth/mfa/verify', verification);
    if (!result.ok && result.error.error !== 'mfa_not_pending') return result.error;
    // Verified now, or already (another tab): either way the session has moved on.
    forgetMethods();
    const signedIn = await refresh();
    if (signedIn?.session.status === 'enrollment_required') {
      navigate(withNext('/enroll', next), { replace: true });
    } else {
      navigate(next ?? homeFor(signedIn), { replace: true });
    }
    return null;
  }

  async function useAnotherAccount() {
    setLeaving(true);
    await signOut(signedOut, navigate);
  }

  return (
    <CardPage title="Verify it’s you">
      {me && (
        <p className="card-intro">
          Signing in to <strong>{me.user.org.name}</strong> as <strong>{me.user.email}</strong>.
          {again
            ? ' The app asks you to verify it’s you again.'
            : ' Your organization asks for a second step.'}
        </p>
      )}
      <VerificationForm methods={methods} onSubmit={verify} />
      <div className="card-links">
        <Button type="button" kind="link" onClick={useAnotherAccount} busy={leaving}>
          Use another account
        </Button>
      </div>
    </CardPage>
  );
}
