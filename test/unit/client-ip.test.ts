// src/security/client-ip.ts: the client's address, and who may vouch for it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrustedProxies } from '../../src/security/client-ip.js';

describe('trusted proxies', () => {
  it('uses the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const t = parseTrustedProxies([]);
    assert.equal(t.clientIp('::ffff:10.1.2.3', '1.1.1.1'), '10.1.2.3');
  });
  it('takes the nearest untrusted hop behind trusted proxies', () => {
    const t = parseTrustedProxies(['127.0.0.1/32', '10.0.0.0/8']);
    assert.equal(t.clientIp('127.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.5'), '203.0.113.9');
    assert.equal(t.clientIp('192.0.2.1', '6.6.6.6'), '192.0.2.1', 'an untrusted peer cannot claim an address');
    assert.equal(t.clientIp('127.0.0.1', 'garbage'), '127.0.0.1');
  });
  it('refuses malformed entries', () => {
    assert.throws(() => parseTrustedProxies(['10.0.0.0/33']), /prefix/);
    assert.throws(() => parseTrustedProxies(['example.com']), /not an IP/);
  });
});
