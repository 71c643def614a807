// Client ID Metadata Documents fetched behind the SSRF fences (architecture.md#oauth), against a real HTTPS server on
// 127.0.0.1: private and loopback addresses refused (loopback only with the loopback exception),
// redirects not followed, size and time limits, caching by Cache-Control, and a document that must
// name itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressAllowed,
  clientFromDocument,
  fetchMetadataDocument,
  isCimdClientId,
  ttlOf,
} from '../../src/oauth/cimd.js';
import { startHttpsStub, type HttpsStub } from '../support/tls.js';

let stub: HttpsStub;
const doc = (id: string) =>
  JSON.stringify({
    client_id: id,
    client_name: 'Doc Client',
    redirect_uris: ['http://127.0.0.1:7000/cb'],
    token_endpoint_auth_method: 'none',
  });

before(async () => {
  stub = await startHttpsStub((req, res) => {
    const id = stub.url + req.url;
    if (req.url === '/client.json')
      return void res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=120' })
        .end(doc(id));
    if (req.url === '/big.json')
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ client_id: id, pad: 'x'.repeat(6000) }));
    if (req.url === '/chunked-big.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 8; i++) res.write('x'.repeat(1000));
      return void res.end();
    }
    if (req.url === '/slow.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      return void setTimeout(() => res.end('}'), 2000).unref();
    }
    if (req.url === '/redirect.json') return void res.writeHead(302, { location: '/client.json' }).end();
    res.writeHead(404).end();
  });
});
after(() => stub?.close());

const fetchDoc = (path: string, extra: Partial<Parameters<typeof fetchMetadataDocument>[1]> = {}) =>
  fetchMetadataDocument(stub.url + path, { allowLoopback: true, ca: stub.cert, timeoutMs: 500, ...extra });

describe('CIMD fetching', () => {
  it('fetches a document from loopback only when the deployment is on loopback', async () => {
    const before = stub.hits.length;
    await assert.rejects(
      fetchDoc('/client.json', { allowLoopback: false }),
      /127\.0\.0\.1 is a private, loopback or reserved address/,
    );
    await assert.rejects(
      fetchMetadataDocument(stub.url.replace('127.0.0.1', 'localhost') + '/client.json', {
        allowLoopback: false,
        ca: stub.cert,
      }),
      /private, loopback or reserved/,
    );
    assert.equal(stub.hits.length, before, 'the server never saw a request');
    const ok = await fetchDoc('/client.json');
    assert.equal((ok.body as { client_name: string }).client_name, 'Doc Client');
    assert.equal(ok.ttlSeconds, 120);
  });

  it('refuses oversized, slow and redirecting answers, and plain http', async () => {
    await assert.rejects(fetchDoc('/big.json'), /larger than 5120 bytes/);
    await assert.rejects(fetchDoc('/chunked-big.json'), /larger than 5120 bytes/);
    await assert.rejects(fetchDoc('/slow.json'), /no complete answer within 500 ms/);
    const hits = stub.hits.length;
    await assert.rejects(fetchDoc('/redirect.json'), /redirects are not followed/);
    assert.deepEqual(stub.hits.slice(hits), ['/redirect.json'], 'the redirect target was not fetched');
    await assert.rejects(
      fetchMetadataDocument(stub.url.replace('https', 'http') + '/client.json', { allowLoopback: true }),
      /https/,
    );
    await assert.rejects(fetchDoc('/missing.json'), /answered 404/);
  });

  it('refuses a server whose certificate is not trusted', async () => {
    await assert.rejects(fetchDoc('/client.json', { ca: undefined }), /could not fetch it/);
  });

  it('knows which addresses are private', () => {
    for (const ip of [
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '127.0.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      '224.0.0.1',
      'not-an-ip',
    ]) {
      assert.equal(addressAllowed(ip, false), false, ip);
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) assert.equal(addressAllowed(ip, false), true, ip);
    assert.equal(addressAllowed('127.0.0.1', true), true);
    assert.equal(addressAllowed('::ffff:127.0.0.1', true), true);
    assert.equal(addressAllowed('10.0.0.1', true), false, 'the loopback exception is for loopback only');
  });

  it('accepts only client ids that are https URLs with a path, and documents that name themselves', () => {
    for (const ok of ['https://app.example/client.json', 'https://app.example:8443/oauth/meta'])
      assert.ok(isCimdClientId(ok), ok);
    for (const bad of [
      'http://app.example/c',
      'https://app.example/',
      'https://app.example',
      'https://u:p@app.example/c',
      'https://app.example/c#x',
      'https://app.example/a/../c',
      'ghc_x',
    ])
      assert.ok(!isCimdClientId(bad), bad);
    const id = 'https://app.example/client.json';
    assert.deepEqual(clientFromDocument(id, JSON.parse(doc(id))), {
      name: 'Doc Client',
      redirectUris: ['http://127.0.0.1:7000/cb'],
    });
    assert.throws(
      () => clientFromDocument(id, JSON.parse(doc('https://other.example/client.json'))),
      /not the URL it was fetched from/,
    );
    assert.throws(
      () => clientFromDocument(id, { client_id: id, redirect_uris: ['http://evil.example/cb'] }),
      /must use https/,
    );
    assert.throws(
      () => clientFromDocument(id, { client_id: id, redirect_uris: ['https://a.example/cb'], client_secret: 'x' }),
      /secret/,
    );
    assert.throws(
      () =>
        clientFromDocument(id, {
          client_id: id,
          redirect_uris: ['https://a.example/cb'],
          token_endpoint_auth_method: 'private_key_jwt',
        }),
      /none/,
    );
    assert.equal(
      clientFromDocument(id, { client_id: id, redirect_uris: ['https://a.example/cb'] }).name,
      'app.example',
    );
  });

  it('caches as Cache-Control or Expires says', () => {
    assert.equal(ttlOf('max-age=60'), 60);
    assert.equal(ttlOf('public, max-age=999999'), 86_400);
    assert.equal(ttlOf('no-store'), 0);
    assert.equal(ttlOf('no-cache, max-age=60'), 0);
    assert.equal(ttlOf(undefined), 600);
    // Expires counts when max-age is absent, from the response's own Date; a bad date is already stale.
    const date = 'Mon, 30 Nov 2026 12:00:00 GMT';
    assert.equal(ttlOf(undefined, 'Mon, 30 Nov 2026 12:05:00 GMT', date), 300);
    assert.equal(ttlOf('public', 'Mon, 30 Nov 2026 11:00:00 GMT', date), 0);
    assert.equal(ttlOf(undefined, '0', date), 0);
    assert.equal(ttlOf(undefined, 'Fri, 30 Nov 2029 12:00:00 GMT', date), 86_400);
    assert.equal(ttlOf('max-age=60', 'Mon, 30 Nov 2026 11:00:00 GMT', date), 60, 'max-age wins over Expires');
  });
});
