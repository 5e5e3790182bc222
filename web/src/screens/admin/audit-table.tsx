import { useId } from 'react';
import type { AuditEvent } from '../../api.ts';
import { detailsSummary, eventLabel, formatClock, formatDate } from './audit-format.ts';

function Person({ person }: { person: AuditEvent['actor'] }) {
  if (!person) return <span className="adm-muted">—</span>;
  return <span>{person.email ?? 'Deleted user'}</span>;
}

export function AuditTable({ events, busy }: { events: AuditEvent[]; busy: boolean }) {
  const id = useId();
  return (
    <div
      className="table-wrap adm-table-wrap adm-cards"
      role="region"
      aria-labelledby={`${id}-caption`}
      tabIndex={0}
    >
      <table className="adm-audit" aria-busy={busy || undefined}>
        <caption id={`${id}-caption`} className="adm-sr-only">
          Security events, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Actor</th>
            <th scope="col">Target</th>
            <th scope="col">IP</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id} data-type={event.type}>
              <td data-label="Time">
                <time dateTime={event.created_at}>
                  <span>{formatDate(event.created_at)}</span>{' '}
                  <span>{formatClock(event.created_at)}</span>
                </time>
              </td>
              <td className="adm-strong adm-wrap adm-card-title">{eventLabel(event.type)}</td>
              <td data-label="Actor">
                <Person person={event.actor} />
              </td>
              <td data-label="Target">
                <Person person={event.target} />
              </td>
              <td data-label="IP">{event.ip ?? <span className="adm-muted">—</span>}</td>
              <td className="adm-details adm-wrap" data-label="Details">
                {detailsSummary(event)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
