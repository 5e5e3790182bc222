import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, type SetupBody, type SetupDone, type SetupStatus } from '../api.ts';
import { Button, Field, Notice } from '../components/fields.tsx';
import { CardPage } from '../components/layout.tsx';
import { Link, useRouter } from '../router.tsx';
import { homeFor, useSession } from '../session.tsx';
import { markSignedIn, rememberOrg } from './auth-flow.ts';
import './sign-in-flows.css';

type FieldName = 'orgName' | 'slug' | 'adminName' | 'email' | 'password';
type Errors = Partial<Record<FieldName, string>>;
const FIELD_ORDER: FieldName[] = ['orgName', 'slug', 'adminName', 'email', 'password'];

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** "Acme Corp." → "acme-corp": a slug suggestion the admin may change. */
function suggestSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

/** Which field a refusal from the server is about. */
const FIELD_OF_ERROR: Record<string, FieldName> = {
  invalid_slug: 'slug',
  slug_taken: 'slug',
  invalid_email: 'email',
  weak_password: 'password',
  password_too_long: 'password',
};

/** First run: the one-time link printed at start-up creates the org and its first admin. */
export function SetupScreen() {
  const { refresh } = useSession();
  const { navigate } = useRouter();
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token'));
  const [open, setOpen] = useState<boolean | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void api<SetupStatus>('GET', '/setup').then((result) => {
      if (!live) return;
      if (result.ok) setOpen(result.data.open);
      else setLoadError(result.error.message);
    });
    return () => {
      live = false;
    };
  }, []);

  async function created(slug: string) {
    rememberOrg(slug);
    markSignedIn();
    const me = await refresh();
    navigate(homeFor(me), { replace: true });
  }

  return (
    <CardPage title="Create your organization">
      {loadError ? (
        <Notice kind="error">{loadError}</Notice>
      ) : open === null ? (
        <p className="loading" role="status">
          Checking the setup link…
        </p>
      ) : !open ? (
        <SetupClosed />
      ) : !token ? (
        <Notice kind="warning">
          This page needs the one-time setup link that the server printed when it started. Open that
          link, or restart the server to print a new one.
        </Notice>
      ) : (
        <SetupForm token={token} onCreated={created} />
      )}
    </CardPage>
  );
}

function SetupClosed() {
  return (
    <div className="stack">
      <Notice>Setup is complete: an organization already exists. Sign in instead.</Notice>
      <Link className="button button-primary" to="/sign-in">
        Go to sign in
      </Link>
    </div>
  );
}

function SetupForm({ token, onCreated }: { token: string; onCreated(slug: string): void }) {
  const formRef = useRef<HTMLFormElement>(null);
  const [orgName, setOrgName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [adminName, setAdminName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<{ code: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  function focusField(name: FieldName) {
    const input = formRef.current?.elements.namedItem(name);
    if (input instanceof HTMLInputElement) input.focus();
  }

  function validate(): Errors {
    const found: Errors = {};
    if (!orgName.trim()) found.orgName = 'Enter the name of your organization.';
    if (!SLUG_PATTERN.test(slug) || slug.length < 2 || slug.length > 40) {
      found.slug =
        '2 to 40 lowercase letters, digits or hyphens, not starting or ending with a hyphen.';
    }
    if (!adminName.trim()) found.adminName = 'Enter your name.';
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) found.email = 'Enter a valid email.';
    if ([...password].length < 8) found.password = 'Use at least 8 characters.';
    return found;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found = validate();
    setErrors(found);
    setFailure(null);
    const firstInvalid = FIELD_ORDER.find((name) => found[name]);
    if (firstInvalid) return focusField(firstInvalid);

    setBusy(true);
    const result = await api<SetupDone>('POST', '/setup', {
      token,
      org: { slug, name: orgName.trim() },
      admin: { email: email.trim(), name: adminName.trim(), password },
    } satisfies SetupBody);
    if (result.ok) return onCreated(slug);
    setBusy(false);
    const field = FIELD_OF_ERROR[result.error.error];
    if (field) {
      setErrors({ [field]: result.error.message });
      focusField(field);
    } else {
      setFailure({ code: result.error.error, message: result.error.message });
    }
  }

  return (
    <form ref={formRef} className="stack" onSubmit={submit} noValidate>
      <p className="card-intro">
        Welcome to Portcullis. Create your organization and its first admin account; you are signed
        in as that admin right after.
      </p>
      {failure?.code === 'invalid_setup_token' ? (
        <Notice kind="error">
          This setup link is not valid: it works only once, and only the newest one printed by the
          server. Restart the server to get a new link.
        </Notice>
      ) : failure?.code === 'setup_complete' ? (
        <Notice kind="error">
          Setup is already complete: an organization exists. <Link to="/sign-in">Sign in</Link>{' '}
          instead.
        </Notice>
      ) : failure ? (
        <Notice kind="error">{failure.message}</Notice>
      ) : null}
      <fieldset className="form-section">
        <legend>Organization</legend>
        <Field
          label="Organization name"
          name="orgName"
          value={orgName}
          onChange={(event) => {
            setOrgName(event.target.value);
            if (!slugEdited) setSlug(suggestSlug(event.target.value));
          }}
          error={errors.orgName}
          autoComplete="organization"
          autoFocus
        />
        <Field
          label="Slug"
          name="slug"
          value={slug}
          onChange={(event) => {
            setSlugEdited(true);
            setSlug(event.target.value.toLowerCase());
          }}
          hint={
            <>
              Its short name, used to sign in: lowercase letters, digits and hyphens
              {slug ? ` (…/sign-in?org=${slug})` : ''}.
            </>
          }
          error={errors.slug}
          autoCapitalize="none"
          spellCheck={false}
        />
      </fieldset>
      <fieldset className="form-section">
        <legend>First admin</legend>
        <Field
          label="Your name"
          name="adminName"
          value={adminName}
          onChange={(event) => setAdminName(event.target.value)}
          error={errors.adminName}
          autoComplete="name"
        />
        <Field
          label="Email"
          name="email"
          type="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={errors.email}
          autoComplete="email"
        />
        <Field
          label="Password"
          name="password"
          type="password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          hint="At least 8 characters. A long passphrase is best."
          error={errors.password}
          autoComplete="new-password"
        />
      </fieldset>
      <Button type="submit" busy={busy}>
        {busy ? 'Creating…' : 'Create organization'}
      </Button>
    </form>
  );
}
