import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { getMe, onSessionLost, type Me } from './api.ts';
import { useRouter } from './router.tsx';

type Session = {
  /** undefined while loading, null when signed out. */
  me: Me | null | undefined;
  refresh(): Promise<Me | null>;
  signedOut(): void;
};

const SessionContext = createContext<Session | null>(null);

const PUBLIC_PATHS = ['/sign-in', '/setup', '/forgot-password', '/reset-password'];

export function SessionProvider({ children }: { children: ReactNode }) {
  const { navigate } = useRouter();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  const refresh = useCallback(async () => {
    const result = await getMe();
    const next = result.ok ? result.data : null;
    setMe(next);
    return next;
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // A session that ends mid-use (expired, revoked) returns to sign-in, then back to where it was.
  // A session that ends mid-use (expired, revoked) returns to sign-in, then back to where it was.
  // The sign-in page says "expired" only to a browser that was signed in (auth-flow.ts).
  useEffect(
    () =>
      onSessionLost(() => {
        setMe(null);
        const here = window.location.pathname + window.location.search;
        if (!PUBLIC_PATHS.includes(window.location.pathname)) {
          navigate(`/sign-in?expired=1&next=${encodeURIComponent(here)}`, { replace: true });
        }
      }),
    [navigate],
  );

  return (
    <SessionContext.Provider
      value={{
        me,
        refresh,
        signedOut: () => setMe(null),
      }}
    >
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** Where a session in this state belongs. */
export function homeFor(me: Me | null): string {
  if (!me) return '/sign-in';
  if (me.session.status === 'mfa_required') return '/verify';
  if (me.session.status === 'enrollment_required') return '/enroll';
  return me.user.role === 'admin' ? '/admin/users' : '/settings/security';
}
