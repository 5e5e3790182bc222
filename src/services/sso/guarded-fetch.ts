import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import {
  isPermittedAddress,
  literalAddressOf,
  parseProviderUrl,
  permitsProvider,
  type AddressPolicy,
} from '../../core/issuer-address.ts';

/** Every address a host name resolves to (the system resolver, or a test's). */
export type Resolve = (hostname: string) => Promise<string[]>;

export const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, order: 'verbatim' }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((entry) => entry.address)),
    );
  });

/** A request to the identity provider that the address rule stopped before any connection. */
export class ProviderAddressRefused extends Error {
  override name = 'ProviderAddressRefused';
  readonly code = 'EPROVIDERADDRESS';
  constructor() {
    super('the identity provider resolves to an address that is not allowed');
  }
}

/** The rule applied to a URL, with its host's name looked up: what a save or a discovery checks. */
export async function checkProviderUrl(
  raw: string,
  policy: AddressPolicy,
  resolve: Resolve,
): Promise<URL | null> {
  const url = parseProviderUrl(raw);
  if (!url) return null;
  const literal = literalAddressOf(url);
  let addresses: string[];
  try {
    addresses = literal ? [literal] : await resolve(url.hostname);
  } catch {
    return null;
  }
  return permitsProvider(url, addresses, policy) ? url : null;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for outgoing connections that resolves the name and refuses if any address breaks
 * the rule. The socket then connects to exactly the addresses checked here, so a name that
 * answered a public address when the connection was saved and answers 127.0.0.1 now (DNS
 * rebinding) gets no connection.
 */
export function guardedLookup(policy: AddressPolicy, resolve: Resolve) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (addresses) => {
        if (
          addresses.length === 0 ||
          !addresses.every((address) => isPermittedAddress(address, policy))
        ) {
          callback(new ProviderAddressRefused(), []);
          return;
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const entries = addresses
          .map((address) => ({ address, family: isIP(address) }))
          .filter((entry) => wanted === 0 || entry.family === wanted);
        const first = entries[0];
        if (!first) {
          const error: NodeJS.ErrnoException = new Error(`no IPv${wanted} address`);
          error.code = 'ENOTFOUND';
          callback(error, []);
          return;
        }
        if (options.all) callback(null, entries);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

export type GuardedFetchInit = {
  method: string;
  headers: Record<string, string>;
  body?: ConstructorParameters<typeof Response>[0];
  signal?: AbortSignal;
};

/**
 * A fetch (the shape openid-client's customFetch takes) whose connections go only to addresses
 * the rule permits: an IP-literal host is checked here, a name by the lookup on connection.
 * Node's http client never follows redirects, as openid-client asks (redirect: 'manual').
 */
export function createGuardedFetch(policy: AddressPolicy, resolve: Resolve = systemResolve) {
  const lookup = guardedLookup(policy, resolve);
  return async (input: string, init: GuardedFetchInit): Promise<Response> => {
    const url = new URL(input);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError('only http and https are supported');
    }
    const literal = literalAddressOf(url);
    if (literal !== null && !isPermittedAddress(literal, policy)) {
      throw new ProviderAddressRefused();
    }
    const body =
      init.body === undefined || init.body === null
        ? null
        : Buffer.from(await new Response(init.body).arrayBuffer());
    const headers = { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((answer, fail) => {
      const request = send(
        url,
        {
          method: init.method,
          headers,
          lookup,
          agent: false,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (response) => {
          try {
            answer(toResponse(response, init.method));
          } catch (error) {
            response.destroy();
            fail(error);
          }
        },
      );
      request.on('error', fail);
      request.end(body ?? undefined);
    });
  };
}

function toResponse(response: IncomingMessage, method: string): Response {
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const status = response.statusCode ?? 0;
  const empty = method === 'HEAD' || status === 204 || status === 304;
  if (empty) response.resume();
  return new Response(empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
    status,
    statusText: response.statusMessage ?? '',
    headers,
  });
}
