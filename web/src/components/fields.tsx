import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

export function Field({
  label,
  hint,
  error,
  ...input
}: {
  label: string;
  hint?: ReactNode;
  error?: string | null;
} & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * A one-time code: one input (screen readers and password managers handle it best), numeric
 * keyboard, the browser's one-time-code autofill, and a paste of "123 456" or "123-456" accepted.
 */
export function CodeInput({
  label = 'Verification code',
  value,
  onChange,
  recovery = false,
  autoFocus = true,
  error,
}: {
  label?: string;
  value: string;
  onChange(value: string): void;
  recovery?: boolean;
  autoFocus?: boolean;
  error?: string | null;
}) {
  return (
    <Field
      label={label}
      value={value}
      error={error}
      autoFocus={autoFocus}
      autoComplete={recovery ? 'off' : 'one-time-code'}
      inputMode={recovery ? 'text' : 'numeric'}
      spellCheck={false}
      placeholder={recovery ? 'xxxx-xxxx-xxxx-xxxx' : '123456'}
      maxLength={recovery ? 24 : 9}
      className={recovery ? 'code-input recovery' : 'code-input'}
      onChange={(event) => {
        const raw = event.target.value;
        onChange(recovery ? raw.trim() : raw.replace(/[^0-9]/g, '').slice(0, 6));
      }}
    />
  );
}

export function Notice({
  kind = 'info',
  children,
}: {
  kind?: 'info' | 'error' | 'success' | 'warning';
  children: ReactNode;
}) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Button({
  kind = 'primary',
  busy = false,
  children,
  ...props
}: {
  kind?: 'primary' | 'secondary' | 'danger' | 'link';
  busy?: boolean;
} & React.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button
      className={`button button-${kind}`}
      aria-busy={busy || undefined}
      disabled={busy || props.disabled}
      {...props}
    >
      {children}
    </button>
  );
}
