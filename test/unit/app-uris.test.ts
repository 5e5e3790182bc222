import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAcceptableAppUri } from '../../src/core/app-uris.ts';

test('https URLs and http on a loopback address are accepted', () => {
  for (const uri of [
    'https://app.example.com/callback',
    'https://app.example.com:8443/auth/cb?tenant=1',
    'http://127.0.0.1:8080/callback',
    'http://[::1]:3000/cb',
    'http://localhost:5173/cb',
  ]) {
    assert.equal(isAcceptableAppUri(uri), true, uri);
  }
});

test('plain http elsewhere, other schemes, fragments, credentials and relative URIs are refused', () => {
  for (const uri of [
    'http://app.example.com/callback',
    'http://127.0.0.2.nip.io/cb',
    'http://localhost.example.com/cb',
    'javascript:alert(1)',
    'com.example.app:/callback',
    'data:text/html,hi',
    'https://app.example.com/cb#fragment',
    'https://app.example.com/cb#',
    'https://user:pass@app.example.com/cb',
    'https://user@app.example.com/cb',
    '/callback',
    'app.example.com/callback',
    ' https://app.example.com/cb',
    '',
    `https://app.example.com/${'a'.repeat(2000)}`,
  ]) {
    assert.equal(isAcceptableAppUri(uri), false, uri);
  }
});
