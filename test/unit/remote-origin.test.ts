// The remote CLI keeps an admin's token and sends it with every call: plain http is refused except to
// this machine, where nothing on the way can read it (docs/architecture.md#devices).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { remoteOrigin } from '../../src/cli/remote.js';
import { UsageError } from '../../src/cli/common.js';

it('takes https anywhere, and plain http only to loopback addresses', () => {
  assert.equal(remoteOrigin('https://gatehouse.example/some/page'), 'https://gatehouse.example');
  for (const url of [
    'http://127.0.0.1:8080',
    'http://127.45.6.7',
    'http://[::1]:9000/x',
    'http://localhost:3000',
    'http://LOCALHOST',
  ]) {
    assert.equal(remoteOrigin(url), new URL(url).origin, url);
  }
});

it('refuses plain http to any other host with one sentence that says why', () => {
  const hosts = [
    'http://gatehouse.example',
    'http://10.0.0.5:8080',
    'http://[::ffff:127.0.0.1]',
    'http://localhost.evil.example',
    'http://127.0.0.1.nip.io',
    'http://[fe80::1]',
    'http://0.0.0.0:80',
    'http://128.0.0.1',
  ];
  for (const url of hosts) {
    assert.throws(
      () => remoteOrigin(url),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, url);
        assert.match(e.message, /would send an admin token in clear: use https:\/\//);
        assert.equal(e.message.split('\n').length, 1);
        return true;
      },
      url,
    );
  }
});
