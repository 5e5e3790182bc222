import { useState, type ReactNode } from 'react';
import { api } from '../api.ts';
import { Link, useRouter } from '../router.tsx';
import { useSession } from '../session.tsx';

/** The signed-in frame: a left panel with User Settings, Account Settings and System. */
export function Layout({ title, children }: { title: string; children: ReactNode }) {
  const { me, signedOut } = useSession();
  const { navigate } = useRouter();
  const [menuOpen, setMenuOpen] = useState(false);
  if (!me) return null;
  const isAdmin = me.user.role === 'admin';

  async function signOut() {
    await api<null>('POST', '/auth/logout');
    signedOut();
    navigate('/sign-in', { replace: true });
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Portcullis</span>
        <span className="org-name">{me.user.org.name}</span>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="side-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <span className="whoami">{me.user.email}</span>
        <button type="button" className="button button-secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav id="side-nav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
        <p className="nav-heading">User Settings</p>
        <Link to="/settings/security">Security</Link>
        {!me.user.sso && <Link to="/settings/password">Change Password</Link>}
        {isAdmin && (
          <>
            <p className="nav-heading">Account Settings</p>
            <Link to="/admin/security">Security</Link>
            <Link to="/admin/sso">Single sign-on</Link>
            <p className="nav-heading">System</p>
            <Link to="/admin/users">Users</Link>
            <Link to="/admin/audit">Audit log</Link>
          </>
        )}
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

/** The frame of the pages before sign-in: one centred card. */
export function CardPage({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main id="main" className="card-page">
      <div className="card">
        <p className="brand">Portcullis</p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}
