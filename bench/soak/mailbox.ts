import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';

/** How long a sent code may take to arrive before the soak calls it lost. */
export const MAIL_WAIT_MS = 15_000;

export type Mailbox = {
  /** The SMTP_URL the servers send their mail to. */
  url: string;
  /** How many codes this address has received so far. */
  received(address: string): number;
  /** The newest code, once the address has received more than `seen`; null if none comes. */
  nextCode(address: string, seen: number): Promise<string | null>;
  close(): Promise<void>;
};

/** An SMTP server that keeps only the newest code each address received, and how many. */
export async function startMailbox(): Promise<Mailbox> {
  const latest = new Map<string, { code: string; count: number }>();
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const code = codeIn(Buffer.concat(chunks).toString('utf8'));
        for (const { address } of session.envelope.rcptTo) {
          if (!code) continue;
          latest.set(address, { code, count: (latest.get(address)?.count ?? 0) + 1 });
        }
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: (address) => latest.get(address)?.count ?? 0,
    async nextCode(address, seen) {
      const deadline = Date.now() + MAIL_WAIT_MS;
      for (;;) {
        const newest = latest.get(address);
        if (newest && newest.count > seen) return newest.code;
        if (Date.now() > deadline) return null;
        await sleep(20);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The code in a mail, quoted-printable soft line breaks removed. */
function codeIn(mail: string): string | undefined {
  return /verification code is (\d{6})\b/.exec(mail.replace(/=\r?\n/g, ''))?.[1];
}
