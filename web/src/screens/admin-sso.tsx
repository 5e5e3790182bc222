import { useEffect, useState, type FormEvent } from 'react';
import {
  api,
  type ApiError,
  type SsoSettings,
  type SsoSettingsBody,
  type SsoTested,
  type Verification,
} from '../api.ts';
import { Button, Field, Notice } from '../components/fields.tsx';
import { Layout } from '../components/layout.tsx';
import { useStepUp } from '../components/verification.tsx';

type Message = { kind: 'success' | 'error'; text: string } | null;

/** Account Settings → Single sign-on: the org's OpenID Connect identity provider. */
export function AdminSsoScreen() {
  const [settings, setSettings] = useState<SsoSettings | null | undefined>(undefined);
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [domains, setDomains] = useState('');
  const [createUsers, setCreateUsers] = useState(false);
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    const result = await api<SsoSettings>('GET', '/org/sso');
    const loaded = result.ok ? result.data : null;
    setSettings(loaded);
    setIssuer(loaded?.issuer ?? '');
    setClientId(loaded?.client_id ?? '');
    setDomains(loaded?.allowed_domains.join(', ') ?? '');
    setCreateUsers(loaded?.create_users ?? false);
  }
  useEffect(() => {
    void load();
  }, []);

  const save = useStepUp<null>((verification?: Verification) =>
    api<null>('PUT', '/org/sso', {
      issuer: issuer.trim(),
      client_id: clientId.trim(),
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      allowed_domains: domains.split(/[\s,]+/).filter(Boolean),
      create_users: createUsers,
      ...(verification ? { verification } : {}),
    } satisfies SsoSettingsBody),
  );
  const remove = useStepUp<null>((verification?: Verification) =>
    api<null>('POST', '/org/sso/remove', verification ? { verification } : {}),
  );

  function show(result: { ok: true } | { ok: false; error: ApiError } | null, success: string) {
    if (!result) return;
    setMessage(
      result.ok
        ? { kind: 'success', text: success }
        : { kind: 'error', text: result.error.message },
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    const result = await save.run('change the single sign-on connection');
    setBusy(false);
    show(result, 'Saved. Use “Test connection” to check that the identity provider answers.');
    if (result?.ok) {
      setClientSecret('');
      await load();
    }
  }

  async function test() {
    setMessage(null);
    const result = await api<SsoTested>('POST', '/org/sso/test');
    show(result, result.ok ? `The identity provider answers as ${result.data.issuer}.` : '');
  }

  async function removeConnection() {
    const result = await remove.run('remove the single sign-on connection');
    show(result, 'Single sign-on removed. SSO users cannot sign in until it is configured again.');
    if (result?.ok) await load();
  }

  if (settings === undefined)
    return (
      <Layout title="Single sign-on">
        <p role="status">Loading…</p>
      </Layout>
    );
  const callback = settings?.redirect_uri ?? `${window.location.origin}/api/v1/auth/sso/callback`;

  return (
    <Layout title="Single sign-on">
      <p>
        Users marked SSO sign in through your OpenID Connect identity provider, which handles their
        multi-factor authentication; Portcullis never asks them for an authenticator app or email
        code.
      </p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <section className="panel stack" aria-labelledby="sso-form-title">
        <h2 id="sso-form-title">{settings ? 'Connection' : 'Connect an identity provider'}</h2>
        <p>
          Register this redirect URI at your identity provider:{' '}
          <code className="secret">{callback}</code>
        </p>
        <form className="stack" onSubmit={submit}>
          <Field
            label="Issuer URL"
            value={issuer}
            onChange={(e) => setIssuer(e.target.value)}
            required
            placeholder="https://idp.example.com"
            hint="Its discovery document is read from /.well-known/openid-configuration."
          />
          <Field
            label="Client ID"
            value={clientId}
            onChange={(e) => setClientId(e.target.value)}
            required
            autoComplete="off"
          />
          <Field
            label="Client secret"
            type="password"
            value={clientSecret}
            onChange={(e) => setClientSecret(e.target.value)}
            autoComplete="new-password"
            required={!settings}
            hint={
              settings ? 'Stored encrypted and never shown. Leave empty to keep it.' : undefined
            }
          />
          <Field
            label="Allowed email domains"
            value={domains}
            onChange={(e) => setDomains(e.target.value)}
            hint="Separated by commas, such as acme.com. Empty allows any domain."
          />
          <label className="row">
            <input
              type="checkbox"
              checked={createUsers}
              onChange={(e) => setCreateUsers(e.target.checked)}
            />
            Create users on their first sign-in
          </label>
          <div className="actions">
            <Button type="submit" busy={busy}>
              Save
            </Button>
            {settings && (
              <>
                <Button type="button" kind="secondary" onClick={test}>
                  Test connection
                </Button>
                <Button type="button" kind="danger" onClick={removeConnection}>
                  Remove
                </Button>
              </>
            )}
          </div>
        </form>
      </section>
      {save.modal}
      {remove.modal}
    </Layout>
  );
}
