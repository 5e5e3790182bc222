import { useEffect, useId, useState } from 'react';
import type { MfaStatus, OrgMfa, OrgUser, UsersPage } from '../api.ts';
import { Button, Notice } from '../components/fields.tsx';
import { Layout } from '../components/layout.tsx';
import { useSession } from '../session.tsx';
import { AddUserDialog } from './admin/add-user-dialog.tsx';
import { AdoptionCard } from './admin/adoption-card.tsx';
import { ConvertToSsoFlow } from './admin/convert-to-sso.tsx';
import { getOrgMfa } from './admin/org-mfa.ts';
import { Pager, useCursorStack } from './admin/pager.tsx';
import { ResetMfaFlow } from './admin/reset-mfa.tsx';
import { MFA_LABELS, hasSsoConnection, listUsers } from './admin/users-api.ts';
import { UsersTable } from './admin/users-table.tsx';
import './admin/admin.css';

type Filter = MfaStatus | 'all';
const FILTERS: Filter[] = ['all', 'enrolled', 'not_enrolled', 'sso'];

/** System → Users: who is enrolled, adding users, Reset MFA, Convert to SSO. */
export function UsersScreen() {
  const { me } = useSession();
  const id = useId();
  const [filter, setFilter] = useState<Filter>('all');
  const pages = useCursorStack();
  const [list, setList] = useState<UsersPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [summary, setSummary] = useState<OrgMfa | null>(null);
  const [reloads, setReloads] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [resetting, setResetting] = useState<OrgUser | null>(null);
  const [ssoConnected, setSsoConnected] = useState(false);
  const [converting, setConverting] = useState<OrgUser | null>(null);

  const { cursor } = pages;
  useEffect(() => {
    let live = true;
    setLoading(true);
    void listUsers({ cursor, mfa: filter === 'all' ? null : filter }).then((result) => {
      if (!live) return;
      setLoading(false);
      if (result.ok) {
        setList(result.data);
        setError(null);
      } else {
        setError(result.error.message);
      }
    });
    return () => {
      live = false;
    };
  }, [cursor, filter, reloads]);

  useEffect(() => {
    void getOrgMfa().then((result) => result.ok && setSummary(result.data));
  }, [reloads]);

  useEffect(() => {
    let live = true;
    void hasSsoConnection().then((connected) => live && setSsoConnected(connected));
    return () => {
      live = false;
    };
  }, [reloads]);

  function changeFilter(next: Filter) {
    setFilter(next);
    pages.reset();
  }

  const users = list?.users ?? [];
  return (
    <Layout title="Users">
      <AdoptionCard summary={summary} />
      <section className="stack" aria-labelledby={`${id}-title`}>
        <div className="adm-toolbar">
          <h2 id={`${id}-title`} className="adm-toolbar-title">
            People
          </h2>
          <div className="adm-inline-field">
            <label htmlFor={`${id}-filter`}>MFA status</label>
            <select
              id={`${id}-filter`}
              value={filter}
              onChange={(event) => changeFilter(event.target.value as Filter)}
            >
              {FILTERS.map((value) => (
                <option key={value} value={value}>
                  {value === 'all' ? 'All users' : MFA_LABELS[value]}
                </option>
              ))}
            </select>
          </div>
          <Button type="button" onClick={() => setAdding(true)}>
            Add user
          </Button>
        </div>
        {notice && <Notice kind="success">{notice}</Notice>}
        {error && (
          <div className="stack">
            <Notice kind="error">The users could not be loaded. {error}</Notice>
            <Button type="button" kind="secondary" onClick={() => setReloads((n) => n + 1)}>
              Try again
            </Button>
          </div>
        )}
        {!list && !error && (
          <div className="panel adm-placeholder" role="status">
            Loading users…
          </div>
        )}
        {list && users.length === 0 && (
          <div className="panel adm-empty">
            <p className="adm-strong">
              {filter === 'all'
                ? 'No users yet.'
                : `No users match “${MFA_LABELS[filter as MfaStatus]}”.`}
            </p>
            {filter !== 'all' && (
              <Button type="button" kind="secondary" onClick={() => changeFilter('all')}>
                Show all users
              </Button>
            )}
          </div>
        )}
        {users.length > 0 && me && (
          <UsersTable
            users={users}
            meId={me.user.id}
            busy={loading}
            onReset={setResetting}
            onConvert={ssoConnected ? setConverting : null}
          />
        )}
        <Pager
          label="Users pages"
          page={pages.page}
          hasNext={Boolean(list?.next_cursor)}
          busy={loading}
          onPrevious={pages.previous}
          onNext={() => list?.next_cursor && pages.next(list.next_cursor)}
        />
      </section>
      {adding && (
        <AddUserDialog
          onCancel={() => setAdding(false)}
          onAdded={(user) => {
            setAdding(false);
            setNotice(`${user.name} (${user.email}) was added.`);
            setReloads((n) => n + 1);
          }}
        />
      )}
      {resetting && (
        <ResetMfaFlow
          key={resetting.id}
          user={resetting}
          onClose={() => setResetting(null)}
          onReset={(user) => {
            setResetting(null);
            setNotice(`MFA was reset for ${user.name}. They are signed out everywhere.`);
            setReloads((n) => n + 1);
          }}
        />
      )}
      {converting && (
        <ConvertToSsoFlow
          key={converting.id}
          user={converting}
          onClose={() => setConverting(null)}
          onConverted={(user) => {
            setConverting(null);
            setNotice(
              `${user.name} now signs in through your identity provider. They are signed out everywhere.`,
            );
            setReloads((n) => n + 1);
          }}
          onStale={() => setReloads((n) => n + 1)}
        />
      )}
    </Layout>
  );
}
