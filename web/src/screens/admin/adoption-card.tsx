import { useId } from 'react';
import { Link } from '../../router.tsx';
import type { OrgMfa } from '../../api.ts';
import { POLICY_LABELS } from './org-mfa.ts';

/** MFA adoption: enrolled vs not, as a bar with its numbers in text beside it. */
export function AdoptionCard({ summary }: { summary: OrgMfa | null }) {
  const id = useId();
  const total = summary?.users_total ?? 0;
  const enrolled = summary?.users_enrolled ?? 0;
  const percent = total > 0 ? Math.round((enrolled / total) * 100) : 0;
  return (
    <section className="panel adm-adoption" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>MFA adoption</h2>
      {!summary ? (
        <p className="adm-muted adm-adoption-loading" role="status">
          Loading…
        </p>
      ) : (
        <>
          <p className="adm-adoption-figure">
            <span className="adm-big">{percent}%</span>
            <span>
              <strong>{enrolled}</strong> of <strong>{total}</strong> users enrolled
            </span>
          </p>
          <svg
            className="adm-bar"
            viewBox="0 0 100 4"
            preserveAspectRatio="none"
            aria-hidden="true"
            focusable="false"
          >
            <rect className="adm-bar-rest" x="0" y="0" width="100" height="4" />
            <rect
              className="adm-bar-fill"
              x="0"
              y="0"
              width={total > 0 ? (enrolled / total) * 100 : 0}
              height="4"
            />
          </svg>
          <ul className="adm-legend">
            <li>
              <span className="adm-dot adm-dot-enrolled" aria-hidden="true" />
              Enrolled: {enrolled}
            </li>
            <li>
              <span className="adm-dot adm-dot-rest" aria-hidden="true" />
              Not enrolled or SSO: {total - enrolled}
            </li>
          </ul>
          <p className="adm-muted adm-footnote">
            Policy: <strong>{POLICY_LABELS[summary.policy]}</strong>.{' '}
            <Link to="/admin/security">Change it in Account Settings → Security</Link>
          </p>
        </>
      )}
    </section>
  );
}
