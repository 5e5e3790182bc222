import { Notice } from '../components/fields.tsx';
import { Layout } from '../components/layout.tsx';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { muted, sectionHeading } from './user-security/format.tsx';
import { VerificationMethods } from './user-security/methods.tsx';
import { RecoveryCodesSection } from './user-security/recovery.tsx';

/**
 * User Settings → Security: the signed-in user's verification methods and recovery codes. SSO users
 * and orgs with MFA disabled get nothing to set.
 */
export function UserSecurityScreen() {
  const { me } = useSession();
  if (!me) return null;

  let body;
  if (me.user.sso) {
    body = (
      <section className="panel stack" aria-labelledby="methods-title">
        <h2 id="methods-title" style={sectionHeading}>
          Your Verification Methods
        </h2>
        <Notice>
          You sign in through your organization’s identity provider (SSO). Your identity provider
          handles multi-factor authentication, so there is nothing to set up here.
        </Notice>
      </section>
    );
  } else if (me.mfa.policy === 'disabled') {
    body = (
      <section className="panel stack" aria-labelledby="methods-title">
        <h2 id="methods-title" style={sectionHeading}>
          Your Verification Methods
        </h2>
        <Notice>
          <strong>Multi-factor authentication is disabled for your organization.</strong> No one can
          use it until an admin turns it on.
          {me.user.role === 'admin' && (
            <>
              {' '}
              As an admin, you can turn it on in{' '}
              <Link to="/admin/security">Account Settings → Security</Link>.
            </>
          )}
          {me.mfa.methods.length > 0 &&
            ' Your methods are kept and will work again if it is turned back on.'}
        </Notice>
      </section>
    );
  } else {
    body = (
      <>
        <VerificationMethods me={me} />
        {me.mfa.methods.length > 0 && <RecoveryCodesSection me={me} />}
      </>
    );
  }

  return (
    <Layout title="Security">
      <p style={{ ...muted, marginBottom: '1.25rem' }}>
        Multi-factor authentication (MFA) adds an extra verification step when you sign in or make a
        sensitive change, such as your password.
      </p>
      {body}
    </Layout>
  );
}
