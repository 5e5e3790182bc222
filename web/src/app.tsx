import { useEffect, type ComponentType } from 'react';
import { useRouter } from './router.tsx';
import { homeFor, useSession } from './session.tsx';
import { AdminSecurityScreen } from './screens/admin-security.tsx';
import { AdminSsoScreen } from './screens/admin-sso.tsx';
import { AuditScreen } from './screens/audit.tsx';
import { ChangePasswordScreen } from './screens/change-password.tsx';
import { EnrollScreen } from './screens/enroll.tsx';
import { ForgotPasswordScreen } from './screens/forgot-password.tsx';
import { ResetPasswordScreen } from './screens/reset-password.tsx';
import { SetupScreen } from './screens/setup.tsx';
import { SignInScreen } from './screens/sign-in.tsx';
import { UserSecurityScreen } from './screens/user-security.tsx';
import { UsersScreen } from './screens/users.tsx';
import { VerifyScreen } from './screens/verify.tsx';

type Access = 'public' | 'verifying' | 'enrolling' | 'signed_in' | 'admin';
const routes: Record<string, { screen: ComponentType; access: Access }> = {
  '/setup': { screen: SetupScreen, access: 'public' },
  '/sign-in': { screen: SignInScreen, access: 'public' },
  '/forgot-password': { screen: ForgotPasswordScreen, access: 'public' },
  '/reset-password': { screen: ResetPasswordScreen, access: 'public' },
  '/verify': { screen: VerifyScreen, access: 'verifying' },
  '/enroll': { screen: EnrollScreen, access: 'enrolling' },
  '/settings/security': { screen: UserSecurityScreen, access: 'signed_in' },
  '/settings/password': { screen: ChangePasswordScreen, access: 'signed_in' },
  '/admin/security': { screen: AdminSecurityScreen, access: 'admin' },
  '/admin/sso': { screen: AdminSsoScreen, access: 'admin' },
  '/admin/users': { screen: UsersScreen, access: 'admin' },
  '/admin/audit': { screen: AuditScreen, access: 'admin' },
};

/** Which route a session may see; anything else sends it home (or to sign-in). */
function allowed(access: Access, me: ReturnType<typeof useSession>['me']): boolean {
  if (access === 'public') return true;
  if (!me) return false;
  const status = me.session.status;
  // A signed-in session verifies again when an app's sign-in asks for a fresh factor.
  if (access === 'verifying') return status === 'mfa_required' || status === 'authenticated';
  if (access === 'enrolling') return status === 'enrollment_required' || status === 'authenticated';
  if (status !== 'authenticated') return false;
  return access === 'signed_in' || me.user.role === 'admin';
}

export function App() {
  const { path, navigate } = useRouter();
  const { me } = useSession();
  const route = routes[path];

  useEffect(() => {
    if (me === undefined) return;
    if (!route || !allowed(route.access, me)) {
      const next = me
        ? homeFor(me)
        : `/sign-in${path === '/' ? '' : `?next=${encodeURIComponent(path)}`}`;
      if (next !== path) navigate(next, { replace: true });
    }
  }, [me, route, path, navigate]);

  if (me === undefined)
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  if (!route || !allowed(route.access, me)) return null;
  const Screen = route.screen;
  return <Screen />;
}
