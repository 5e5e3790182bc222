import { useEffect, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { api, type Me, type MfaMethod } from '../../api.ts';
import { Button, Notice } from '../../components/fields.tsx';
import { METHOD_LABELS, describeError, useStepUp } from '../../components/verification.tsx';
import { useRouter } from '../../router.tsx';
import { useSession } from '../../session.tsx';
import { formatDay, formatMoment, muted, sectionHeading } from './format.tsx';
import { MethodMenu } from './method-menu.tsx';

type Message = { kind: 'success' | 'error'; text: string };

const DESCRIPTIONS: Record<MfaMethod, string> = {
  totp: 'Use any third-party authenticator app for verification codes.',
  email: 'Receive codes via email.',
};

/**
 * The user's verification methods: Authenticator App and Email, each enabled (since when,
 * last used, a 3-dot menu with Disable) or with an Enable button, for the methods the org allows.
 */
export function VerificationMethods({ me }: { me: Me }) {
  const { refresh } = useSession();
  const { navigate } = useRouter();
  const [message, setMessage] = useState<Message | null>(null);
  const messageRef = useRef<HTMLDivElement>(null);
  const target = useRef<MfaMethod>('totp');

  const disable = useStepUp<null>((verification) =>
    api<null>('POST', `/me/mfa/${target.current}/disable`, verification ? { verification } : {}),
  );

  useEffect(() => {
    if (message) messageRef.current?.focus();
  }, [message]);

  async function startDisable(method: MfaMethod) {
    target.current = method;
    setMessage(null);
    const result = await disable.run(`disable ${METHOD_LABELS[method]}`);
    if (result === null) return;
    // Either way the page shows the state as it now is (another tab may have changed it).
    await refresh();
    if (!result.ok) {
      setMessage({ kind: 'error', text: describeError(result.error) });
      return;
    }
    setMessage({
      kind: 'success',
      text: `${METHOD_LABELS[method]} is disabled. You will no longer be asked for its codes.`,
    });
  }

  const enabled = new Map(me.mfa.methods.map((m) => [m.type, m]));
  const shown = (['totp', 'email'] as const).filter(
    (m) => enabled.has(m) || me.mfa.allowed_methods.includes(m),
  );

  return (
    <section className="panel stack" aria-labelledby="methods-title">
      <h2 id="methods-title" style={sectionHeading}>
        Your Verification Methods
      </h2>
      <p style={muted}>
        {me.mfa.policy === 'required'
          ? 'Your organization requires MFA: keep at least one method enabled.'
          : 'MFA is opt-in in your organization. Add a method for extra security: you will then verify with it when you sign in and for sensitive actions, such as changing your password.'}
      </p>
      {message && (
        <div ref={messageRef} tabIndex={-1} style={{ outline: 'none' }}>
          <Notice kind={message.kind}>{message.text}</Notice>
        </div>
      )}
      {shown.length === 0 ? (
        <Notice kind="warning">
          No verification method is enabled for your organization. Ask an admin to turn on the
          Authenticator App or Email in Account Settings → Security.
        </Notice>
      ) : (
        <ul style={listStyle}>
          {shown.map((method) => {
            const factor = enabled.get(method);
            const allowed = me.mfa.allowed_methods.includes(method);
            const label = METHOD_LABELS[method];
            return (
              <li key={method} style={itemStyle}>
                <MethodIcon method={method} />
                <h3 style={nameStyle}>
                  {label} {factor && <span className="badge badge-enrolled">Enabled</span>}
                </h3>
                <div style={{ gridColumn: 3, gridRow: 1 }}>
                  {factor ? (
                    <MethodMenu
                      label={label}
                      items={[
                        { label: 'Disable', danger: true, onSelect: () => startDisable(method) },
                      ]}
                    />
                  ) : (
                    <Button
                      type="button"
                      kind="secondary"
                      aria-label={`Enable ${label}`}
                      onClick={() => navigate(`/enroll?method=${method}`)}
                    >
                      Enable
                    </Button>
                  )}
                </div>
                <div style={{ gridColumn: '2 / 4', minWidth: 0 }}>
                  <p style={muted}>
                    {DESCRIPTIONS[method]}
                    {method === 'email' && <> Codes go to {me.user.email}.</>}
                  </p>
                  {factor && (
                    <p style={detailStyle}>
                      Enabled since {formatDay(factor.created_at)} ·{' '}
                      {factor.last_used_at
                        ? `Last used ${formatMoment(factor.last_used_at)}`
                        : 'Not used yet'}
                    </p>
                  )}
                  {factor && !allowed && (
                    <p style={{ ...detailStyle, color: 'var(--warning)' }}>
                      Your organization has turned this method off, so it is not offered when you
                      verify.
                    </p>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {me.mfa.methods.length > 0 && (
        <p style={{ ...muted, fontSize: '0.9rem' }}>
          Each time you disable and re-enable a method, you get 10 new recovery codes.
        </p>
      )}
      {disable.modal}
    </section>
  );
}

function MethodIcon({ method }: { method: MfaMethod }) {
  const paths: Record<MfaMethod, ReactNode> = {
    totp: (
      <>
        <rect x="7" y="3" width="10" height="18" rx="2" />
        <path d="M11 18h2" />
      </>
    ),
    email: (
      <>
        <rect x="3" y="5" width="18" height="14" rx="2" />
        <path d="m4 7 8 6 8-6" />
      </>
    ),
  };
  return (
    <span style={iconStyle} aria-hidden="true">
      <svg
        width="22"
        height="22"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
        focusable="false"
      >
        {paths[method]}
      </svg>
    </span>
  );
}

const listStyle: CSSProperties = { listStyle: 'none', margin: 0, padding: 0 };

const itemStyle: CSSProperties = {
  display: 'grid',
  gridTemplateColumns: 'auto minmax(0, 1fr) auto',
  alignItems: 'center',
  gap: '0.25rem 1rem',
  padding: '1rem 0',
  borderTop: '1px solid var(--border)',
};

const nameStyle: CSSProperties = {
  gridColumn: 2,
  gridRow: 1,
  fontSize: '1rem',
  margin: 0,
  display: 'flex',
  alignItems: 'center',
  gap: '0.5rem',
  flexWrap: 'wrap',
};

const detailStyle: CSSProperties = { margin: '0.25rem 0 0', fontSize: '0.9rem' };

const iconStyle: CSSProperties = {
  gridColumn: 1,
  gridRow: 1,
  display: 'grid',
  placeItems: 'center',
  width: '2.5rem',
  height: '2.5rem',
  borderRadius: '8px',
  background: '#e4ebff',
  color: 'var(--primary-dark)',
};
