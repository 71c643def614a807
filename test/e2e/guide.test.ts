// GET /auth/guide.md: the coding-agent cheat sheet, public (no session) and served as Markdown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

let gh: TestGatehouse;
before(async () => {
  gh = await startTestGatehouse({ upstream: 'http://127.0.0.1:9' });
});
after(async () => {
  await gh.stop();
});

describe('/auth/guide.md', () => {
  it('answers a visitor without a session with the Markdown cheat sheet', async () => {
    const r = await request(`${gh.url}/auth/guide.md`);
    const text = await r.body.text();
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/markdown; charset=utf-8');
    assert.match(text, /X-Forwarded-User/);
    assert.match(text, /<form method="post" action="\/auth\/sign-out"><button>Sign out<\/button><\/form>/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  it('tells agents to verify the assertion against the JWKS, never to decode it unverified', async () => {
    const text = await (await request(`${gh.url}/auth/guide.md`)).body.text();
    const para = text.split(/\n\s*\n/).find((p) => p.includes('X-Forwarded-Assertion'));
    assert.ok(para, 'the assertion is documented');
    assert.match(para, /\/auth\/\.well-known\/jwks\.json/);
    assert.match(para, /never decode it\s+without verifying/);
  });
});
