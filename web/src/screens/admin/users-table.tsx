import { useId } from 'react';
import type { OrgUser } from '../../api.ts';
import { Button } from '../../components/fields.tsx';
import { Link } from '../../router.tsx';
import { MFA_LABELS } from './users-api.ts';

/**
 * Name, Email, Role and the MFA column; "Reset MFA" per user, and "Convert to SSO" when the org
 * has an SSO connection (neither for SSO users or oneself).
 */
export function UsersTable({
  users,
  meId,
  busy,
  onReset,
  onConvert,
}: {
  users: OrgUser[];
  meId: string;
  busy: boolean;
  onReset(user: OrgUser): void;
  /** Null when the org has no SSO connection: then no "Convert to SSO" is offered. */
  onConvert: ((user: OrgUser) => void) | null;
}) {
  const id = useId();
  return (
    <div
      className="table-wrap adm-table-wrap adm-cards"
      role="region"
      aria-labelledby={`${id}-caption`}
      tabIndex={0}
    >
      <table aria-busy={busy || undefined}>
        <caption id={`${id}-caption`} className="adm-sr-only">
          Users and their MFA status
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">MFA</th>
            <th scope="col">
              <span className="adm-sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} data-user-id={user.id}>
              <td className="adm-strong adm-card-title">
                {user.name}
                {user.id === meId && <span className="adm-you"> (you)</span>}
              </td>
              <td data-label="Email">{user.email}</td>
              <td data-label="Role">{user.role === 'admin' ? 'Admin' : 'Member'}</td>
              <td data-label="MFA">
                <span className={`badge badge-${user.mfa}`}>{MFA_LABELS[user.mfa]}</span>
              </td>
              <td className="adm-cell-action">
                {user.id === meId ? (
                  <Link to="/settings/security" className="adm-small">
                    Your security settings
                  </Link>
                ) : user.sso ? (
                  <span className="adm-muted adm-small">MFA at their identity provider</span>
                ) : (
                  <div className="adm-row-actions">
                    <Button
                      type="button"
                      kind="secondary"
                      className="button button-secondary adm-small-button"
                      aria-label={`Reset MFA for ${user.name}`}
                      onClick={() => onReset(user)}
                    >
                      Reset MFA
                    </Button>
                    {onConvert && (
                      <Button
                        type="button"
                        kind="secondary"
                        className="button button-secondary adm-small-button"
                        aria-label={`Convert to SSO for ${user.name}`}
                        onClick={() => onConvert(user)}
                      >
                        Convert to SSO
                      </Button>
                    )}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
