import { useId, useState, type FormEvent } from 'react';
import { api, type CreateUserBody, type OrgUser, type UserCreated } from '../../api.ts';
import { Dialog } from '../../components/dialog.tsx';
import { FocusLoop } from './focus-loop.tsx';
import { Button, Field, Notice } from '../../components/fields.tsx';
import { useStepUp } from '../../components/verification.tsx';

type FieldName = 'name' | 'email' | 'password';
const FIELD_OF_ERROR: Record<string, FieldName> = {
  invalid_name: 'name',
  invalid_email: 'email',
  email_taken: 'email',
  weak_password: 'password',
  password_too_long: 'password',
};

/** "Add user": a member or admin who signs in with a password, or through the org's SSO. */
export function AddUserDialog({
  onCancel,
  onAdded,
}: {
  onCancel(): void;
  onAdded(user: Pick<OrgUser, 'id' | 'email' | 'name'>): void;
}) {
  const id = useId();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<CreateUserBody['role']>('member');
  const [signIn, setSignIn] = useState<'password' | 'sso'>('password');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // A new admin is a sensitive action: the server asks for a step-up, a new member needs none.
  const stepUp = useStepUp<UserCreated>((verification) =>
    api<UserCreated>('POST', '/org/users', {
      name: name.trim(),
      email: email.trim(),
      role,
      ...(signIn === 'sso' ? { sso: true } : { password }),
      ...(verification ? { verification } : {}),
    } satisfies CreateUserBody),
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setFailure(null);
    const missing: Partial<Record<FieldName, string>> = {};
    if (!name.trim()) missing.name = 'Enter the user’s name.';
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) missing.email = 'Enter an email address.';
    if (signIn === 'password' && password.length < 8) {
      missing.password = 'A password is at least 8 characters long.';
    }
    if (Object.keys(missing).length > 0) return setErrors(missing);
    setBusy(true);
    const result = await stepUp.run(`add ${name.trim()} as an admin`);
    setBusy(false);
    if (!result) return;
    if (result.ok) return onAdded(result.data.user);
    const field = FIELD_OF_ERROR[result.error.error];
    if (field) setErrors({ [field]: result.error.message });
    else setFailure(result.error.message);
  }

  return (
    <>
      <Dialog title="Add user" open onCancel={onCancel}>
        <FocusLoop>
          <form className="stack" onSubmit={submit} noValidate>
            <Field
              label="Name"
              value={name}
              required
              maxLength={200}
              autoComplete="off"
              error={errors.name}
              onChange={(event) => setName(event.target.value)}
            />
            <Field
              label="Email"
              type="email"
              value={email}
              required
              autoComplete="off"
              spellCheck={false}
              error={errors.email}
              onChange={(event) => setEmail(event.target.value)}
            />
            <div className="field">
              <label htmlFor={`${id}-role`}>Role</label>
              <select
                id={`${id}-role`}
                value={role}
                onChange={(event) => setRole(event.target.value as CreateUserBody['role'])}
              >
                <option value="member">Member</option>
                <option value="admin">Admin</option>
              </select>
            </div>
            <fieldset className="choice">
              <legend>Signs in with</legend>
              <label className="choice-option">
                <input
                  type="radio"
                  name={`${id}-sign-in`}
                  checked={signIn === 'password'}
                  onChange={() => setSignIn('password')}
                />
                Password
              </label>
              <label className="choice-option">
                <input
                  type="radio"
                  name={`${id}-sign-in`}
                  checked={signIn === 'sso'}
                  onChange={() => setSignIn('sso')}
                />
                SSO
              </label>
            </fieldset>
            {signIn === 'password' ? (
              <Field
                label="Initial password"
                type="password"
                value={password}
                required
                minLength={8}
                maxLength={256}
                autoComplete="new-password"
                hint="At least 8 characters. Share it with the user in a safe way."
                error={errors.password}
                onChange={(event) => setPassword(event.target.value)}
              />
            ) : (
              <p className="adm-muted">
                This user signs in through your organization’s identity provider, which handles
                their MFA.
              </p>
            )}
            {failure && <Notice kind="error">{failure}</Notice>}
            <div className="actions">
              <Button type="submit" busy={busy}>
                Add user
              </Button>
              <Button type="button" kind="secondary" onClick={onCancel}>
                Cancel
              </Button>
            </div>
          </form>
        </FocusLoop>
      </Dialog>
      {stepUp.modal}
    </>
  );
}
