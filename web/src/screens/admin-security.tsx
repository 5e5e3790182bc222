import { useCallback, useEffect, useState } from 'react';
import type { OrgMfa } from '../api.ts';
import { Button, Notice } from '../components/fields.tsx';
import { Layout } from '../components/layout.tsx';
import { useSession } from '../session.tsx';
import { MethodsPanel } from './admin/methods-panel.tsx';
import { getOrgMfa } from './admin/org-mfa.ts';
import { PolicyPanel } from './admin/policy-panel.tsx';
import './admin/admin.css';

/** Account Settings → Security: the org's MFA policy and allowed methods. */
export function AdminSecurityScreen() {
  const { me } = useSession();
  const [orgMfa, setOrgMfa] = useState<OrgMfa | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const result = await getOrgMfa();
    if (result.ok) {
      setOrgMfa(result.data);
      setError(null);
    } else {
      setError(result.error.message);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Layout title="Account Settings → Security">
      <p className="adm-lead">
        Multi-factor authentication for everyone in {me?.user.org.name ?? 'your organization'}.
      </p>
      {error && (
        <div className="stack adm-block">
          <Notice kind="error">The security settings could not be loaded. {error}</Notice>
          <Button type="button" kind="secondary" onClick={() => void load()}>
            Try again
          </Button>
        </div>
      )}
      {!orgMfa && !error && (
        <div className="panel adm-placeholder" role="status">
          Loading security settings…
        </div>
      )}
      {orgMfa && (
        <>
          <PolicyPanel orgMfa={orgMfa} onChanged={load} />
          <MethodsPanel orgMfa={orgMfa} onChanged={load} />
        </>
      )}
    </Layout>
  );
}
