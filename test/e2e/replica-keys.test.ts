// Regression: replicas that share only the database (each its own GATEHOUSE_HOME, as containers are) each
// made a signing key of their own in their own state file, so an app verifying with one replica's JWKS
// refused the other's assertions. The keys live in the bound store now: two `gatehouse serve` processes
// started together over PostgreSQL and over MariaDB publish one JWKS, and either's assertion verifies
// against either's keys; a rotation made through one reaches both; a replica warns about another that
// serves as another public URL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { dropMysqlTables, dropPostgresTables } from '../support/drop-tables.js';
import { MYSQL_URL, POSTGRES_URL, reachable } from '../conformance/servers.js';

type Replica = Awaited<ReturnType<typeof spawnServe>>;

const jwksOf = async (base: string): Promise<JSONWebKeySet> => {
  const r = await request(`${base}/auth/.well-known/jwks.json`);
  assert.equal(r.statusCode, 200);
  return (await r.body.json()) as JSONWebKeySet;
};
const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid).sort();

/** Polls (bounded, real time) until `check` holds: a replica follows the store every few seconds. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200)))
    if (await check()) return true;
  return check();
}

for (const db of [
  { name: 'PostgreSQL', url: POSTGRES_URL, drop: dropPostgresTables },
  { name: 'MariaDB', url: MYSQL_URL, drop: dropMysqlTables },
]) {
  const up = await reachable(db.url);
  describe(
    `two replicas with separate homes over ${db.name}`,
    { skip: up ? false : `${db.name} is not reachable` },
    () => {
      const prefix = `gh_rk${randomBytes(3).toString('hex')}_`;
      const homes = [tempHome(), tempHome()];
      const shared = {
        GATEHOUSE_MASTER_KEY: randomBytes(32).toString('base64'),
        GATEHOUSE_AUTH_SECRET: randomBytes(24).toString('hex'),
        GATEHOUSE_DATABASE_URL: db.url,
        GATEHOUSE_TABLE_PREFIX: prefix,
      };
      const envOf = (i: number) => ({ ...shared, GATEHOUSE_HOME: homes[i]!.home });
      let upstream: RecordingUpstream;
      let a: Replica;
      let b: Replica;
      before(async () => {
        upstream = await startRecordingUpstream();
        // Started together on an empty database: both try to make the first key, one wins.
        [a, b] = await Promise.all([
          spawnServe(['--upstream', upstream.url], envOf(0)),
          spawnServe(['--upstream', upstream.url], envOf(1)),
        ]);
      });
      after(async () => {
        await a?.stop();
        await b?.stop();
        await upstream?.close();
        for (const h of homes) h.cleanup();
        if (up) await db.drop(db.url, prefix);
      });

      it('publishes one JWKS, and each replica’s assertion verifies against the other’s keys', async () => {
        const [ka, kb] = [await jwksOf(a.url), await jwksOf(b.url)];
        assert.deepEqual(kids(ka), kids(kb));
        const onA = new TestClient(a.url);
        assert.equal(
          (await onA.signUp(`rk${randomBytes(3).toString('hex')}@example.com`, 'a long enough password')).status,
          303,
        );
        const onB = new TestClient(b.url);
        for (const [k, v] of onA.cookies) onB.cookies.set(k, v);
        await onA.get('/from-a');
        const fromA = String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']);
        await onB.get('/from-b');
        const fromB = String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']);
        const verify = (jwt: string, keys: JSONWebKeySet, origin: string) =>
          jwtVerify(jwt, createLocalJWKSet(keys), {
            issuer: `${origin}/auth`,
            audience: origin,
            algorithms: ['ES256'],
          });
        assert.equal((await verify(fromA, kb, a.url)).payload.email, (await verify(fromB, ka, b.url)).payload.email);
      });

      it('brings a rotation made through one replica’s setup to both JWKS', async () => {
        const before = kids(await jwksOf(a.url));
        const rotated = await runCli(['auth', 'rotate-signing-key'], envOf(0));
        assert.equal(rotated.code, 0, rotated.stderr);
        const grown = async (base: string) => kids(await jwksOf(base)).length === before.length + 1;
        assert.ok(
          await within(15_000, async () => (await grown(a.url)) && (await grown(b.url))),
          'both publish the new key',
        );
        assert.deepEqual(kids(await jwksOf(a.url)), kids(await jwksOf(b.url)));
      });

      it('warns when another replica serves as another public URL', async () => {
        // Neither sets GATEHOUSE_PUBLIC_URL here, so each is its own listening address: two issuers.
        const warned = () => /replica .* serves as http:\/\/127\.0\.0\.1:\d+/.test(a.output() + b.output());
        assert.ok(await within(15_000, async () => warned()), a.output() + b.output());
      });
    },
  );
}
