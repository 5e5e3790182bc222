import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyAddress,
  isPermittedAddress,
  literalAddressOf,
  parseProviderUrl,
  permitsProvider,
} from '../../src/core/issuer-address.ts';

const strict = { allowLoopback: false };
const development = { allowLoopback: true };

test('loopback addresses, in IPv4, IPv6 and IPv4-mapped form, are loopback', () => {
  for (const address of [
    '127.0.0.1',
    '127.255.255.254',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
  ]) {
    assert.equal(classifyAddress(address), 'loopback', address);
    assert.equal(isPermittedAddress(address, strict), false, address);
    assert.equal(isPermittedAddress(address, development), true, address);
  }
});

test('private, shared, link-local, unspecified, multicast and broadcast addresses are internal, whatever the policy', () => {
  const internal = [
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.168.0.1',
    '198.18.0.1',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::127.0.0.1',
    'fe80::1',
    'febf::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'fec0::1',
    'ff02::1',
    '100::1',
    // IPv4-mapped IPv6 of internal IPv4 addresses.
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '::ffff:192.168.1.1',
    // NAT64 (well-known and local-use prefixes), 6to4 and Teredo.
    '64:ff9b::169.254.169.254',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::7f00:1',
    '64:ff9b::a00:1',
    '64:ff9b:1::8.8.8.8',
    '2002:7f00:1::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    // IPv4-translated (SIIT), documentation and the 6to4 relay anycast.
    '::ffff:0:7f00:1',
    '::ffff:0:127.0.0.1',
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '192.88.99.1',
    '2001:db8::1',
    '3fff::1',
  ];
  for (const address of internal) {
    assert.equal(classifyAddress(address), 'internal', address);
    assert.equal(isPermittedAddress(address, strict), false, address);
    assert.equal(isPermittedAddress(address, development), false, address);
  }
});

test('public addresses are permitted, next to the edges of the internal ranges', () => {
  for (const address of [
    '8.8.8.8',
    '1.1.1.1',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ]) {
    assert.equal(classifyAddress(address), 'public', address);
    assert.equal(isPermittedAddress(address, strict), true, address);
  }
});

test('something that is not an IP address is never permitted, and classifying it is a mistake', () => {
  assert.equal(isPermittedAddress('localhost', development), false);
  assert.equal(isPermittedAddress('', development), false);
  assert.throws(() => classifyAddress('localhost'), TypeError);
});

test('provider URLs: http or https without credentials; numeric spellings come out as the address they mean', () => {
  for (const bad of [
    'not a url',
    'ftp://idp.example.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'https://user:pass@idp.example.com/',
    'https://user@idp.example.com/',
    'http://user:pass@127.0.0.1:8080/',
    'https://:pass@idp.example.com/',
  ]) {
    assert.equal(parseProviderUrl(bad), null, bad);
  }
  const spellings: Array<[string, string | null]> = [
    ['http://2130706433:8080/', '127.0.0.1'],
    ['https://0177.0.0.1/', '127.0.0.1'],
    ['https://0x7f.1/', '127.0.0.1'],
    ['https://127.1/', '127.0.0.1'],
    ['https://0/', '0.0.0.0'],
    ['https://169.254.169.254./', '169.254.169.254'],
    ['https://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['https://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['https://[0:0:0:0:0:0:0:1]/', '::1'],
    ['https://idp.example.com/tenant', null],
    ['https://localhost/', null],
  ];
  for (const [raw, literal] of spellings) {
    const url = parseProviderUrl(raw);
    assert.ok(url, raw);
    assert.equal(literalAddressOf(url), literal, raw);
  }
});

test('the whole rule: every address permitted, and plain http only for loopback', () => {
  const https = new URL('https://idp.example.com/');
  const http = new URL('http://idp.example.com/');
  assert.equal(permitsProvider(https, ['93.184.216.34'], strict), true);
  assert.equal(permitsProvider(https, ['93.184.216.34', '2606:2800:220:1::1'], strict), true);
  // One internal address among public ones is enough to refuse (a name can answer either).
  assert.equal(permitsProvider(https, ['93.184.216.34', '10.0.0.1'], strict), false);
  assert.equal(permitsProvider(https, [], development), false);
  assert.equal(permitsProvider(http, ['93.184.216.34'], development), false);
  assert.equal(permitsProvider(http, ['127.0.0.1', '::1'], development), true);
  assert.equal(permitsProvider(http, ['127.0.0.1'], strict), false);
  assert.equal(permitsProvider(https, ['127.0.0.1'], strict), false);
  assert.equal(permitsProvider(https, ['127.0.0.1'], development), true);
  assert.equal(permitsProvider(http, ['127.0.0.1', '93.184.216.34'], development), false);
});
