import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider (`oidc-provider`) on loopback, for the SSO tests: discovery, JWKS,
 * authorization endpoint with its cookies and interactions, token and userinfo endpoints, all over
 * real HTTP. Its sign-in "pages" are a tiny interaction handler of our own (JSON instead of HTML
 * forms) that a test browser (below) fills in, with the account chosen by the test.
 */

/** email_verified may be given as a string, as some providers (Amazon Cognito) send it. */
export type IdpAccount = { email: string; email_verified?: boolean | string; name?: string };

/** Who signs in at the provider, and what the provider then says of that sign-in. */
export type IdpUser = {
  account: string;
  /** The authentication time the provider records (seconds since the epoch); default: now. */
  authTime?: number;
  acr?: string;
  amr?: string[];
  /** Cancels at the provider's sign-in prompt instead of signing in. */
  cancel?: boolean;
};

type Claims = Record<string, unknown>;

export class TestIdentityProvider {
  readonly clientId = `portcullis-${randomBytes(4).toString('hex')}`;
  readonly clientSecret = randomBytes(24).toString('base64url');
  /** The accounts the provider knows, by account id (the `sub`). */
  readonly accounts = new Map<string, IdpAccount>();
  /** Every authorization request the provider received. */
  readonly authorizationRequests: URL[] = [];
  /** Every request for the discovery document (what a relying party fetches to learn the rest). */
  readonly discoveryRequests: URL[] = [];
  /** The HTTP status of every answer of the token endpoint. */
  readonly tokenAnswers: number[] = [];
  /**
   * While set, every ID token the token endpoint issues is rewritten with these claims and signed
   * again with the provider's own key: a validly signed token saying what the test wants (expired,
   * another issuer, another nonce...).
   */
  idTokenRewrite: ((claims: Claims) => Claims) | null = null;

  private server: Server;
  private readonly key: KeyObject;
  private readonly kid: string;
  private provider: Provider | undefined;
  private port = 0;
  private readonly redirectUris: string[];

  private constructor(key: KeyObject, kid: string, redirectUris: string[]) {
    this.key = key;
    this.kid = kid;
    this.redirectUris = redirectUris;
    this.server = createServer((request, response) => this.handle(request, response));
  }

  static async start(options: { redirectUris: string[] }): Promise<TestIdentityProvider> {
    const idp = TestIdentityProvider.prepare(options);
    await idp.open();
    return idp;
  }

  /** A provider with its keys and client, not listening yet: `open()` starts it. */
  static prepare(options: { redirectUris: string[] }): TestIdentityProvider {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return new TestIdentityProvider(privateKey, randomBytes(6).toString('hex'), [
      ...options.redirectUris,
    ]);
  }

  async open(): Promise<void> {
    await this.listen(0);
    const jwk = {
      ...this.key.export({ format: 'jwk' }),
      kid: this.kid,
      alg: 'RS256',
      use: 'sig',
    };
    this.provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: this.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          // What openid-client's discovery() uses for a client secret given as a string.
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      pkce: { required: () => true },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name'],
        amr: null,
      },
      findAccount: (_ctx: unknown, id: string) => {
        const account = this.accounts.get(id);
        if (!account) return undefined;
        return {
          accountId: id,
          claims: () => ({
            sub: id,
            email: account.email,
            email_verified: account.email_verified ?? true,
            name: account.name ?? account.email,
          }),
        };
      },
      features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      jwks: { keys: [jwk] },
      acrValues: ['urn:test:loa:1', 'urn:test:loa:2'],
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        IdToken: 600,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
      },
    });
  }

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  addAccount(id: string, account: IdpAccount): string {
    this.accounts.set(id, account);
    return id;
  }

  /** The provider goes down: nothing listens on its port any more. */
  async down(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** And comes back on the same port, with the same keys, clients and sessions. */
  async up(): Promise<void> {
    if (this.server.listening) return;
    this.server = createServer((request, response) => this.handle(request, response));
    await this.listen(this.port);
  }

  stop(): Promise<void> {
    return this.down();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        // A provider left running (its stop hook skipped when an earlier after hook threw)
        // must not keep the test process alive.
        this.server.unref();
        resolve();
      });
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const provider = this.provider;
    if (!provider) {
      response.statusCode = 503;
      response.end();
      return;
    }
    const url = new URL(request.url ?? '/', this.issuer);
    const interaction = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(url.pathname);
    if (interaction) {
      this.interact(provider, request, response, interaction[1] as string, interaction[2]).catch(
        (error: unknown) => {
          if (response.headersSent) return;
          sendJson(response, 400, { error: String((error as Error)?.message ?? error) });
        },
      );
      return;
    }
    if (url.pathname === '/auth') this.authorizationRequests.push(url);
    if (url.pathname === '/.well-known/openid-configuration') this.discoveryRequests.push(url);
    if (request.method === 'POST' && url.pathname === '/token') {
      response.on('finish', () => this.tokenAnswers.push(response.statusCode));
      if (this.idTokenRewrite) this.rewriteIdTokenOf(response, this.idTokenRewrite);
    }
    provider.callback()(request, response);
  }

  /**
   * The provider's sign-in and consent "pages": GET shows which prompt is pending; POST .../login
   * signs an account in (the provider then records auth_time, acr and amr as given), POST
   * .../confirm grants the client what it asked for, GET .../abort cancels.
   */
  private async interact(
    provider: Provider,
    request: IncomingMessage,
    response: ServerResponse,
    uid: string,
    action: string | undefined,
  ) {
    const details = await provider.interactionDetails(request, response);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (request.method === 'GET' && action === 'abort') {
      await provider.interactionFinished(
        request,
        response,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (request.method === 'GET' && !action) {
      sendJson(response, 200, {
        interaction: uid,
        prompt: details.prompt.name,
        params: details.params,
      });
      return;
    }
    if (request.method !== 'POST') throw new Error('method not allowed');
    const form = new URLSearchParams(await readBody(request));
    if (action === 'login') {
      if (details.prompt.name !== 'login')
        throw new Error(`not a login prompt: ${details.prompt.name}`);
      const accountId = form.get('login') ?? '';
      if (!this.accounts.has(accountId) || !form.get('password')) {
        sendJson(response, 401, { error: 'invalid login' });
        return;
      }
      const login: { accountId: string; ts?: number; acr?: string; amr?: string[] } = {
        accountId,
      };
      if (form.get('auth_time')) login.ts = Number(form.get('auth_time'));
      if (form.get('acr')) login.acr = form.get('acr') as string;
      if (form.get('amr')) login.amr = (form.get('amr') as string).split(',');
      await provider.interactionFinished(
        request,
        response,
        { login },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (action === 'confirm') {
      if (details.prompt.name !== 'consent')
        throw new Error(`not a consent prompt: ${details.prompt.name}`);
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({
            accountId: details.session?.accountId as string,
            clientId: details.params.client_id as string,
          });
      if (!grant) throw new Error('grant not found');
      const missingScope = details.prompt.details.missingOIDCScope as string[] | undefined;
      const missingClaims = details.prompt.details.missingOIDCClaims as string[] | undefined;
      if (missingScope) grant.addOIDCScope(missingScope.join(' '));
      if (missingClaims) grant.addOIDCClaims(missingClaims);
      await provider.interactionFinished(
        request,
        response,
        { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    throw new Error('unknown interaction action');
  }

  /** Rewrites the id_token of the token endpoint's answer, signed again with the provider's key. */
  private rewriteIdTokenOf(response: ServerResponse, rewrite: (claims: Claims) => Claims) {
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    const key = this.key;
    const kid = this.kid;
    response.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk && response.statusCode === 200) {
        const body = JSON.parse(String(chunk)) as Claims;
        if (typeof body.id_token === 'string') {
          body.id_token = resignJwt(body.id_token, rewrite, key, kid);
          const text = JSON.stringify(body);
          response.setHeader('content-length', Buffer.byteLength(text));
          return end(text, ...rest.filter((r) => typeof r === 'function'));
        }
      }
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  }
}

function resignJwt(
  jwt: string,
  rewrite: (claims: Claims) => Claims,
  key: KeyObject,
  kid: string,
): string {
  const [, payload] = jwt.split('.');
  const claims = rewrite(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', kid })}.${encode(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  response.setHeader('content-length', Buffer.byteLength(text));
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------

type Cookie = { origin: string; name: string; value: string; path: string };

/** One request of a browser's journey and its answer. */
export type Hop = {
  method: string;
  url: URL;
  status: number;
  location: URL | null;
  body: string;
  setCookies: string[];
};

export type Journey = {
  hops: Hop[];
  /** The console page the browser ended on (an app path outside /api/), if it got there. */
  landed: URL | null;
  /** The request the browser was about to make when `stopAt` said stop. */
  stoppedAt: URL | null;
};

/**
 * A browser with a cookie jar, following redirects one by one: requests to the app go through
 * app.inject (it has no network), every other request is real HTTP (fetch, redirect: 'manual').
 * Given no app (null), the app too is reached over real HTTP at appUrl (a `portcullis serve`).
 * At the provider's sign-in and consent prompts it acts as the given user.
 */
export class Browser {
  private cookies: Cookie[] = [];
  private readonly app: FastifyInstance | null;
  readonly appOrigin: string;

  constructor(app: FastifyInstance | null, appUrl: URL | string) {
    this.app = app;
    this.appOrigin = new URL(appUrl).origin;
  }

  /** The value of an app cookie (or of another origin's). */
  cookie(name: string, origin = this.appOrigin): string | undefined {
    return this.cookies.find((c) => c.origin === origin && c.name === name)?.value;
  }

  setCookie(name: string, value: string, path = '/', origin = this.appOrigin) {
    this.cookies = this.cookies.filter(
      (c) => !(c.origin === origin && c.name === name && c.path === path),
    );
    this.cookies.push({ origin, name, value, path });
  }

  dropCookie(name: string, origin = this.appOrigin) {
    this.cookies = this.cookies.filter((c) => !(c.origin === origin && c.name === name));
  }

  /** Forgets every cookie of an origin (e.g. the provider's session). */
  clearOrigin(origin: string) {
    this.cookies = this.cookies.filter((c) => c.origin !== origin);
  }

  async visit(
    start: string | URL,
    options: { user?: IdpUser; stopAt?: (url: URL) => boolean } = {},
  ): Promise<Journey> {
    let request: { method: string; url: URL; form?: URLSearchParams } = {
      method: 'GET',
      url: new URL(start, this.appOrigin),
    };
    const hops: Hop[] = [];
    for (let i = 0; i < 30; i += 1) {
      if (options.stopAt?.(request.url)) return { hops, landed: null, stoppedAt: request.url };
      const hop = await this.send(request);
      hops.push(hop);
      if (hop.status >= 300 && hop.status < 400 && hop.location) {
        const next = hop.location;
        if (next.origin === this.appOrigin && !next.pathname.startsWith('/api/')) {
          return { hops, landed: next, stoppedAt: null };
        }
        request = { method: 'GET', url: next };
        continue;
      }
      // A page that submits itself (the provider's "end the other account's session" step).
      const autoForm = selfSubmittingForm(hop.body);
      if (autoForm) {
        request = {
          method: 'POST',
          url: new URL(autoForm.action, request.url),
          form: autoForm.inputs,
        };
        continue;
      }
      const atPrompt =
        hop.status === 200 &&
        request.url.origin !== this.appOrigin &&
        /^\/interaction\/[\w-]+$/.test(request.url.pathname);
      if (atPrompt && options.user) {
        const page = JSON.parse(hop.body) as { prompt: string };
        const user = options.user;
        if (page.prompt === 'login' && user.cancel) {
          request = { method: 'GET', url: new URL(`${request.url.pathname}/abort`, request.url) };
          continue;
        }
        if (page.prompt === 'login') {
          const form = new URLSearchParams({ login: user.account, password: 'any password' });
          if (user.authTime !== undefined) form.set('auth_time', String(user.authTime));
          if (user.acr) form.set('acr', user.acr);
          if (user.amr) form.set('amr', user.amr.join(','));
          request = {
            method: 'POST',
            url: new URL(`${request.url.pathname}/login`, request.url),
            form,
          };
          continue;
        }
        if (page.prompt === 'consent') {
          request = {
            method: 'POST',
            url: new URL(`${request.url.pathname}/confirm`, request.url),
            form: new URLSearchParams(),
          };
          continue;
        }
      }
      return { hops, landed: null, stoppedAt: null };
    }
    throw new Error(`too many redirects: ${hops.map((h) => h.url.href).join(' -> ')}`);
  }

  private async send(request: { method: string; url: URL; form?: URLSearchParams }): Promise<Hop> {
    const { method, url, form } = request;
    const headers: Record<string, string> = {};
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let status: number;
    let location: string | undefined;
    let body: string;
    let setCookies: string[];
    if (this.app && url.origin === this.appOrigin) {
      if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
      const answer = await this.app.inject({
        method: method as 'GET' | 'POST',
        url: `${url.pathname}${url.search}`,
        headers,
        ...(form ? { payload: form.toString() } : {}),
      });
      status = answer.statusCode;
      location = answer.headers.location as string | undefined;
      body = answer.body;
      const raw = answer.headers['set-cookie'];
      setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
    } else {
      if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
      const answer = await fetch(url, {
        method,
        headers,
        redirect: 'manual',
        ...(form ? { body: form.toString() } : {}),
      });
      status = answer.status;
      location = answer.headers.get('location') ?? undefined;
      body = await answer.text();
      setCookies = answer.headers.getSetCookie();
    }
    this.store(url, setCookies);
    return {
      method,
      url,
      status,
      location: location ? new URL(location, url) : null,
      body,
      setCookies,
    };
  }

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.origin === url.origin && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]) {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=');
        switch (key.toLowerCase()) {
          case 'path':
            path = attributeValue || '/';
            break;
          case 'max-age':
            if (Number(attributeValue) <= 0) expired = true;
            break;
          case 'expires':
            if (Date.parse(attributeValue) <= Date.now()) expired = true;
            break;
        }
      }
      this.cookies = this.cookies.filter(
        (c) => !(c.origin === url.origin && c.name === name && c.path === path),
      );
      if (!expired) this.cookies.push({ origin: url.origin, name, value, path });
    }
  }
}

function selfSubmittingForm(html: string): { action: string; inputs: URLSearchParams } | null {
  if (!html.includes('document.forms[0].submit()')) return null;
  const action = /<form method="post" action="([^"]*)"/i.exec(html)?.[1];
  if (action === undefined) return null;
  const inputs = new URLSearchParams();
  for (const [, name, value] of html.matchAll(
    /<input type="hidden" name="([^"]*)" value="([^"]*)"\/?>/gi,
  )) {
    inputs.append(unescapeHtml(name ?? ''), unescapeHtml(value ?? ''));
  }
  return { action: unescapeHtml(action), inputs };
}

function unescapeHtml(text: string): string {
  return text.replace(/&(#x?[0-9a-f]+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (entity[0] !== '#') return named[entity.toLowerCase()] ?? '';
    const hex = entity[1]?.toLowerCase() === 'x';
    return String.fromCodePoint(parseInt(entity.slice(hex ? 2 : 1), hex ? 16 : 10));
  });
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
