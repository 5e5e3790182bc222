import { useState } from 'react';
import { Button, Notice } from './fields.tsx';

/**
 * The 10 recovery codes, shown once: copy, download, and an explicit "I have saved these codes"
 * before the user may go on: they are the way back in when the other methods are lost.
 */
export function RecoveryCodes({
  codes,
  orgName,
  onDone,
  doneLabel = 'Continue',
}: {
  codes: string[];
  orgName: string;
  onDone(): void;
  doneLabel?: string;
}) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const text = `${orgName} recovery codes (each works once)\n\n${codes.join('\n')}\n`;

  async function copy() {
    await navigator.clipboard?.writeText(text).catch(() => undefined);
    setCopied(true);
  }

  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'portcullis-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <section className="stack" aria-labelledby="recovery-codes-title">
      <h2 id="recovery-codes-title">Your recovery codes</h2>
      <Notice kind="warning">
        Store these 10 codes somewhere safe, such as a password manager. Each works once, and they
        are shown only now. Use one to verify if you lose access to your methods.
      </Notice>
      <ul className="codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="actions">
        <Button type="button" kind="secondary" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </Button>
        <Button type="button" kind="secondary" onClick={download}>
          Download
        </Button>
      </div>
      <label className="row">
        <input
          type="checkbox"
          checked={saved}
          onChange={(event) => setSaved(event.target.checked)}
        />
        I have saved these codes
      </label>
      <Button type="button" disabled={!saved} onClick={onDone}>
        {doneLabel}
      </Button>
    </section>
  );
}
