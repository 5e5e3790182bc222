import { useEffect, useId, useState } from 'react';
import { api, type AuditPage, type OrgUser } from '../api.ts';
import { Button, Notice } from '../components/fields.tsx';
import { Layout } from '../components/layout.tsx';
import { EVENT_LABELS } from './admin/audit-format.ts';
import { AuditTable } from './admin/audit-table.tsx';
import { Pager, useCursorStack } from './admin/pager.tsx';
import { listUsers } from './admin/users-api.ts';
import './admin/admin.css';

const EVENT_TYPES = Object.entries(EVENT_LABELS).sort((a, b) => a[1].localeCompare(b[1]));

/** Audit log: the org's security events, newest first, filtered by type and user. */
export function AuditScreen() {
  const id = useId();
  const pages = useCursorStack();
  const [type, setType] = useState('');
  const [user, setUser] = useState('');
  const [users, setUsers] = useState<OrgUser[]>([]);
  const [list, setList] = useState<AuditPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    void listUsers({ limit: 200 }).then((result) => result.ok && setUsers(result.data.users));
  }, []);

  const { cursor } = pages;
  useEffect(() => {
    let live = true;
    setLoading(true);
    const query = new URLSearchParams();
    if (cursor) query.set('cursor', cursor);
    if (type) query.set('type', type);
    if (user) query.set('user', user);
    const search = query.toString();
    void api<AuditPage>('GET', `/org/audit${search ? `?${search}` : ''}`).then((result) => {
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
  }, [cursor, type, user, reloads]);

  const filtered = type !== '' || user !== '';
  const events = list?.events ?? [];
  return (
    <Layout title="Audit log">
      <p className="adm-lead">
        Your organization’s security events, newest first. Times are in your local time zone.
      </p>
      <form className="adm-toolbar" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <div className="adm-inline-field">
          <label htmlFor={`${id}-type`}>Event</label>
          <select
            id={`${id}-type`}
            value={type}
            onChange={(event) => {
              setType(event.target.value);
              pages.reset();
            }}
          >
            <option value="">All events</option>
            {EVENT_TYPES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="adm-inline-field">
          <label htmlFor={`${id}-user`}>User</label>
          <select
            id={`${id}-user`}
            value={user}
            onChange={(event) => {
              setUser(event.target.value);
              pages.reset();
            }}
          >
            <option value="">All users</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name} ({u.email})
              </option>
            ))}
          </select>
        </div>
        {filtered && (
          <Button
            type="button"
            kind="secondary"
            onClick={() => {
              setType('');
              setUser('');
              pages.reset();
            }}
          >
            Clear filters
          </Button>
        )}
      </form>
      {error && (
        <div className="stack adm-block">
          <Notice kind="error">The audit log could not be loaded. {error}</Notice>
          <Button type="button" kind="secondary" onClick={() => setReloads((n) => n + 1)}>
            Try again
          </Button>
        </div>
      )}
      {!list && !error && (
        <div className="panel adm-placeholder" role="status">
          Loading events…
        </div>
      )}
      {list && events.length === 0 && (
        <div className="panel adm-empty">
          <p className="adm-strong">
            {filtered ? 'No events match these filters.' : 'No events yet.'}
          </p>
        </div>
      )}
      {events.length > 0 && <AuditTable events={events} busy={loading} />}
      <Pager
        label="Audit log pages"
        page={pages.page}
        hasNext={Boolean(list?.next_cursor)}
        busy={loading}
        onPrevious={pages.previous}
        onNext={() => list?.next_cursor && pages.next(list.next_cursor)}
      />
    </Layout>
  );
}
