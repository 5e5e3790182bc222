import { useEffect, useRef, useState, type ReactNode } from 'react';
import {
  api,
  type CodeSent,
  type Me,
  type MfaMethod,
  type TotpSetup,
  type Verification,
} from '../api.ts';
import { Button, Notice } from '../components/fields.tsx';
import { CardPage } from '../components/layout.tsx';
import { RecoveryCodes } from '../components/recovery-codes.tsx';
import { METHOD_LABELS, describeError, useStepUp } from '../components/verification.tsx';
import { Link, useRouter } from '../router.tsx';
import { homeFor, useSession } from '../session.tsx';
import { safeNext, signOut } from './auth-flow.ts';
import { ChooseMethod } from './enroll/choose-method.tsx';
import { EmailStep } from './enroll/email-step.tsx';
import { TotpStep } from './enroll/totp-step.tsx';
import './sign-in-flows.css';

type Step =
  | { kind: 'choose' }
  | { kind: 'totp'; setup: TotpSetup }
  | { kind: 'email'; sentAt: number }
  | { kind: 'codes'; method: MfaMethod; codes: string[] };

/** The methods this user may still set up: allowed by the org and not active yet. */
function availableMethods(me: Me): MfaMethod[] {
  if (me.user.sso || me.mfa.policy === 'disabled') return [];
  return me.mfa.allowed_methods.filter((m) => !me.mfa.methods.some((f) => f.type === m));
}

const setupBody = (verification?: Verification) => (verification ? { verification } : {});

/**
 * Enrollment: right after the password when the org requires MFA, or from User Settings → Security
 * (?method=totp|email), where a user who already has a method confirms it is them first.
 */
export function EnrollScreen() {
  const { me, refresh, signedOut } = useSession();
  const { search, navigate } = useRouter();
  const next = safeNext(search.get('next'));
  // Captured on arrival: enrollment changes the session, not where the user came from.
  const [fromSettings] = useState(() => me?.session.status === 'authenticated');
  const [available] = useState(() => (me ? availableMethods(me) : []));
  const [step, setStep] = useState<Step>({ kind: 'choose' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [leaving, setLeaving] = useState(false);

  const totp = useStepUp((verification?: Verification) =>
    api<TotpSetup>('POST', '/me/mfa/totp/setup', setupBody(verification)),
  );
  const email = useStepUp((verification?: Verification) =>
    api<CodeSent>('POST', '/me/mfa/email/setup', setupBody(verification)),
  );

  /** Starts a method's setup (stepping up when the server asks); an error message, or null. */
  async function begin(method: MfaMethod): Promise<string | null> {
    if (method === 'totp') {
      const result = await totp.run('set up an authenticator app');
      if (result === null) return 'Verification cancelled. Choose Continue to try again.';
      if (!result.ok) return describeError(result.error);
      setStep({ kind: 'totp', setup: result.data });
    } else {
      const result = await email.run('set up email codes');
      if (result === null) return 'Verification cancelled. Choose Continue to try again.';
      if (!result.ok) return describeError(result.error);
      setStep({ kind: 'email', sentAt: Date.now() });
    }
    return null;
  }

  async function choose(method: MfaMethod) {
    setBusy(true);
    setError(null);
    const failure = await begin(method);
    setBusy(false);
    setError(failure);
  }

  // Coming from settings with a method in mind, or with only the authenticator app to set up:
  // start at once (an email is only sent on request).
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const requested = search.get('method');
    const method =
      available.find((m) => m === requested) ??
      (available.length === 1 && available[0] === 'totp' ? 'totp' : undefined);
    if (method) void choose(method);
    // Once, on arrival.
  }, []);

  async function finish() {
    const updated = await refresh();
    navigate(next ?? (fromSettings ? '/settings/security' : homeFor(updated)), { replace: true });
  }

  async function leave() {
    setLeaving(true);
    await signOut(signedOut, navigate);
  }

  if (!me) return null;
  const backTo = next ?? (fromSettings ? '/settings/security' : homeFor(me));
  const inSetup = step.kind === 'totp' || step.kind === 'email';
  const exit =
    step.kind === 'codes' ? null : (
      <>
        {inSetup && available.length > 1 && (
          <Button type="button" kind="link" onClick={() => setStep({ kind: 'choose' })}>
            Choose another method
          </Button>
        )}
        {fromSettings ? (
          <Link to={backTo}>Cancel</Link>
        ) : (
          <Button type="button" kind="link" onClick={leave} busy={leaving}>
            Sign out
          </Button>
        )}
      </>
    );

  let body: ReactNode;
  if (available.length === 0) {
    body = (
      <div className="stack">
        <Notice>{nothingToSetUp(me)}</Notice>
        <Link to={backTo}>Continue</Link>
      </div>
    );
  } else if (step.kind === 'choose') {
    body = (
      <>
        <p className="card-intro">
          {fromSettings
            ? 'Add a verification method to your account. You will use it to sign in and to confirm sensitive changes.'
            : `${me.user.org.name} requires multi-factor authentication. Set up a verification method to finish signing in.`}
        </p>
        <ChooseMethod
          available={available}
          email={me.user.email}
          busy={busy}
          error={error}
          onChoose={choose}
        />
      </>
    );
  } else if (step.kind === 'totp') {
    body = (
      <TotpStep
        setup={step.setup}
        onConfirmed={(codes) => setStep({ kind: 'codes', method: 'totp', codes })}
        onRestart={() => setStep({ kind: 'choose' })}
      />
    );
  } else if (step.kind === 'email') {
    body = (
      <EmailStep
        email={me.user.email}
        sentAt={step.sentAt}
        onResend={() => begin('email')}
        onConfirmed={(codes) => setStep({ kind: 'codes', method: 'email', codes })}
      />
    );
  } else {
    body = (
      <div className="stack">
        <Notice kind="success">{METHOD_LABELS[step.method]} is set up.</Notice>
        <RecoveryCodes
          codes={step.codes}
          orgName={me.user.org.name}
          onDone={finish}
          doneLabel={fromSettings && !next ? 'Back to Security' : 'Continue'}
        />
      </div>
    );
  }

  return (
    <CardPage title="Set up verification">
      {body}
      {exit && <div className="card-links">{exit}</div>}
      {totp.modal}
      {email.modal}
    </CardPage>
  );
}

function nothingToSetUp(me: Me): string {
  if (me.user.sso) {
    return 'You sign in through your organization’s identity provider, which handles multi-factor authentication for you.';
  }
  if (me.mfa.policy === 'disabled') {
    return 'Multi-factor authentication is disabled for your organization: there is nothing to set up.';
  }
  return 'You have already set up every verification method your organization allows.';
}
