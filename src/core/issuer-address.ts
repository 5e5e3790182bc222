import { BlockList, isIP } from 'node:net';

/**
 * Which addresses the server may contact for an SSO connection. The identity provider's URLs are
 * chosen by an org admin and fetched by the server (discovery, keys, tokens), so they must not
 * reach the server's own machine or network: only public addresses, and loopback where the
 * operator allows it for development and tests.
 */
export type AddressPolicy = { allowLoopback: boolean };

export type AddressKind = 'public' | 'loopback' | 'internal';

/**
 * IPv4 ranges that are not the public Internet (IANA special-purpose registry): "this network",
 * private, shared address space (CGNAT), link-local (cloud metadata lives at 169.254.169.254),
 * IETF protocol assignments, documentation, the 6to4 relay anycast, benchmarking, multicast,
 * reserved and broadcast.
 */
const INTERNAL_IPV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/**
 * IPv6 ranges that are not the public Internet: unspecified and IPv4-compatible (::/96),
 * IPv4-translated (::ffff:0:a.b.c.d, which SIIT maps to IPv4), discard, local-use NAT64, Teredo and
 * 6to4 (both embed an IPv4 address the rule cannot see), documentation, unique-local, link-local,
 * site-local and multicast. IPv4-mapped addresses (::ffff:a.b.c.d) need no entry:
 * BlockList checks them against the IPv4 rules.
 */
const INTERNAL_IPV6: ReadonlyArray<readonly [string, number]> = [
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['100::', 64],
  ['64:ff9b:1::', 48],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const internal = new BlockList();
for (const [network, prefix] of INTERNAL_IPV4) {
  internal.addSubnet(network, prefix, 'ipv4');
  // The well-known NAT64 prefix (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
  internal.addSubnet(`64:ff9b::${network}`, 96 + prefix, 'ipv6');
}
internal.addSubnet('64:ff9b::127.0.0.0', 104, 'ipv6');
for (const [network, prefix] of INTERNAL_IPV6) internal.addSubnet(network, prefix, 'ipv6');

/** What an IP address is. Anything that is not an IP address is a caller's mistake. */
export function classifyAddress(address: string): AddressKind {
  const version = isIP(address);
  if (version === 0) throw new TypeError('not an IP address');
  // A zone (fe80::1%eth0) only exists on link-local and similar scoped addresses.
  if (address.includes('%')) return 'internal';
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(address, family)) return 'loopback';
  if (internal.check(address, family)) return 'internal';
  return 'public';
}

export function isPermittedAddress(address: string, policy: AddressPolicy): boolean {
  if (isIP(address) === 0) return false;
  const kind = classifyAddress(address);
  return kind === 'public' || (kind === 'loopback' && policy.allowLoopback);
}

/**
 * The URL-level part of the rule, before any name is looked up: http or https, and no user name
 * or password. Numeric spellings of an IPv4 address (2130706433, 0177.0.0.1, 0x7f.1) come out of
 * the WHATWG URL parser as the dotted address they mean.
 */
export function parseProviderUrl(raw: string): URL | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username !== '' || url.password !== '') return null;
  return url;
}

/** The host of a URL when it is an IP address, without IPv6's brackets; null for a name. */
export function literalAddressOf(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0 ? null : host;
}

/**
 * The whole rule, once the addresses of the URL's host are known (the literal address, or every
 * address its name resolves to): each one is permitted, and plain http is only for loopback.
 */
export function permitsProvider(url: URL, addresses: string[], policy: AddressPolicy): boolean {
  if (addresses.length === 0) return false;
  if (!addresses.every((address) => isPermittedAddress(address, policy))) return false;
  if (url.protocol === 'https:') return true;
  return addresses.every((address) => classifyAddress(address) === 'loopback');
}
