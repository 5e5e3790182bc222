import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { SMTPServer } from 'smtp-server';

/*
 * A real SMTP server for tests, and a minimal reader of what nodemailer puts on the wire (no mail
 * parser is installed): a test reads the code a user would read, out of the RFC 5322 message.
 */

export type ReceivedMail = {
  envelope: { from: string; to: string[] };
  /** The SMTP user the client authenticated as, if any. */
  user: string | undefined;
  headers: Map<string, string>;
  text: string;
  html: string;
};

/** Headers unfolded, names lower-cased, RFC 2047 encoded words decoded. */
function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1)));
    }
  }
  return headers;
}

function decodeWords(value: string): string {
  // Whitespace between two adjacent encoded words is folding, not content (RFC 2047, 6.2); the
  // bytes of adjacent words are joined before decoding, as a character may span two words.
  const joined = value.trim().replace(/\?=\s+=\?/g, '?==?');
  return joined.replace(/(?:=\?[^?]+\?[BbQq]\?[^?]*\?=)+/g, (run) => {
    const bytes: Buffer[] = [];
    for (const [, encoding, data] of run.matchAll(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g)) {
      bytes.push(
        encoding?.toUpperCase() === 'B'
          ? Buffer.from(data ?? '', 'base64')
          : quotedPrintableBytes((data ?? '').replaceAll('_', ' ')),
      );
    }
    return Buffer.concat(bytes).toString('utf8');
  });
}

function quotedPrintableBytes(text: string): Buffer {
  const bytes: number[] = [];
  const unwrapped = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < unwrapped.length; i += 1) {
    const hex = unwrapped.slice(i + 1, i + 3);
    if (unwrapped[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(unwrapped[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, transferEncoding: string | undefined): string {
  switch ((transferEncoding ?? '7bit').toLowerCase()) {
    case 'quoted-printable':
      return quotedPrintableBytes(body).toString('utf8');
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

function splitHead(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a message has a header block');
  return { headers: parseHeaders(raw.slice(0, end)), body: raw.slice(end + 4) };
}

/** The text/plain and text/html parts of a multipart/alternative message, CRLFs made LFs. */
export function readParts(raw: string): Omit<ReceivedMail, 'envelope' | 'user'> {
  const { headers, body } = splitHead(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  assert.ok(boundary, `a multipart message, got ${headers.get('content-type')}`);
  const parts = new Map<string, string>();
  for (const chunk of body.split(`--${boundary}`).slice(1, -1)) {
    const part = splitHead(chunk.replace(/^\r\n/, ''));
    const type = (part.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const content = part.body.replace(/\r\n$/, '');
    parts.set(type, decodeBody(content, part.headers.get('content-transfer-encoding')));
  }
  const lf = (text: string | undefined) => (text ?? '').replaceAll('\r\n', '\n');
  return { headers, text: lf(parts.get('text/plain')), html: lf(parts.get('text/html')) };
}

/** A real SMTP server on 127.0.0.1, one per test, closed when the test ends. */
export type TestSmtpServer = {
  url: string;
  received: ReceivedMail[];
  /** While true, every recipient is refused with 550. */
  rejectRecipients: boolean;
  close(): Promise<void>;
};

export async function startSmtpServer(
  t: TestContext,
  options: { credentials?: { user: string; pass: string } } = {},
): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const credentials = options.credentials;
  const state = { rejectRecipients: false };
  const server = new SMTPServer({
    logger: false,
    // A plain test server: no TLS to negotiate; AUTH over plain text only when credentials are set.
    disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !credentials,
    allowInsecureAuth: true,
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onRcptTo(_address, _session, callback) {
      if (!state.rejectRecipients) return callback();
      callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        received.push({
          envelope: {
            from: mailFrom === false ? '' : mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          user: typeof session.user === 'string' ? session.user : undefined,
          ...readParts(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  // A client that dies mid-message (a server process killed by a test) is that client's problem.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  const auth = credentials ? `${credentials.user}:${credentials.pass}@` : '';
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(close);
  return {
    url: `smtp://${auth}127.0.0.1:${port}`,
    received,
    get rejectRecipients() {
      return state.rejectRecipients;
    },
    set rejectRecipients(value: boolean) {
      state.rejectRecipients = value;
    },
    close,
  };
}

/** The verification-code mails received for this address. */
export function codeMailsTo(smtp: TestSmtpServer, address: string): ReceivedMail[] {
  return smtp.received.filter(
    (mail) =>
      mail.envelope.to.includes(address) &&
      (mail.headers.get('subject') ?? '').includes('your verification code'),
  );
}

export function codeIn(mail: ReceivedMail | undefined): string {
  const code = /verification code is (\d{6})\b/.exec(mail?.text ?? '')?.[1];
  assert.ok(code, 'the mail holds a 6-digit code');
  return code;
}

/**
 * Resolves with the first mail received for this address whose subject includes `subject`, now or
 * once it arrives: notifications are sent without being awaited, so they may land after the answer.
 */
export async function waitForMail(
  smtp: TestSmtpServer,
  address: string,
  subject: string,
  timeoutMs = 5000,
): Promise<ReceivedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = smtp.received.find(
      (m) => m.envelope.to.includes(address) && (m.headers.get('subject') ?? '').includes(subject),
    );
    if (mail) return mail;
    if (Date.now() > deadline)
      throw new Error(`no mail "${subject}" to ${address} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
