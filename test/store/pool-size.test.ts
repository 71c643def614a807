// The pool size of a server binding: from the URL (?pool= or ?max=), else the configured size, else 10,
// bounded 1..1000; the parameter is taken out of the URL because the drivers do not know it. The same
// rule for every server backend, MongoDB included; and the one counter-key rule of every backend.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { counterKey, takePoolSize, takePoolSizeFromString } from '../../src/store/rules.js';
import { createMongoStore, mongoClientSettings } from '../../src/store/mongodb.js';
import { createMysqlStore } from '../../src/store/mysql.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import { isStoreError } from '../../src/store/types.js';

it('reads ?pool= or ?max= before the configured size, and removes it from the URL', () => {
  const u = new URL('postgres://u@h/db?sslmode=require&pool=3');
  assert.equal(takePoolSize(u, 20), 3);
  assert.equal(u.toString(), 'postgres://u@h/db?sslmode=require', 'TLS options pass through untouched');
  assert.equal(takePoolSize(new URL('mysql://u@h/db?max=7'), undefined), 7);
  assert.equal(takePoolSize(new URL('mysql://u@h/db'), 20), 20);
  assert.equal(takePoolSize(new URL('mysql://u@h/db'), undefined), 10);
});

it('refuses a pool size that is not a whole number from 1 to 1000, before connecting', () => {
  for (const bad of ['0', '-1', '2.5', 'lots', '1001', '']) {
    assert.throws(
      () => takePoolSize(new URL(`postgres://u@h/db?pool=${bad}`), undefined),
      (e) => isStoreError(e, 'INVALID'),
      bad,
    );
  }
  assert.throws(
    () => createPostgresStore('postgres://u@127.0.0.1:1/db?max=0', {}),
    (e) => isStoreError(e, 'INVALID'),
  );
  assert.throws(
    () => createMysqlStore('mysql://u@127.0.0.1:1/db', { poolSize: 0 }),
    (e) => isStoreError(e, 'INVALID'),
  );
  assert.throws(
    () => createMysqlStore('mysql://u@127.0.0.1:1/db', { prefix: 'Bad-Prefix' }),
    (e) => isStoreError(e, 'INVALID'),
  );
});

it('reads the pool size from a MongoDB seed list, which is not a WHATWG URL, and leaves the rest as given', () => {
  const seeds = 'mongodb://u:p@a.example:27017,b.example:27017/db?replicaSet=rs0&pool=5&readPreference=secondary';
  assert.deepEqual(takePoolSizeFromString(seeds, 20), {
    url: 'mongodb://u:p@a.example:27017,b.example:27017/db?replicaSet=rs0&readPreference=secondary',
    poolSize: 5,
  });
  assert.deepEqual(takePoolSizeFromString('mongodb+srv://c.example/db?max=9', undefined), {
    url: 'mongodb+srv://c.example/db',
    poolSize: 9,
  });
  const untouched = 'mongodb://a.example,b.example/db?readPreferenceTags=dc:ny,rack:1';
  assert.deepEqual(
    takePoolSizeFromString(untouched, undefined),
    { url: untouched, poolSize: 10 },
    'no pool size: the string is not re-encoded',
  );
  const s = mongoClientSettings(seeds, {});
  assert.equal(new MongoClient(s.url, s.options).options.maxPoolSize, 5, "the driver's own maxPoolSize");
  assert.throws(
    () => createMongoStore('mongodb://a.example,b.example/db?pool=0'),
    (e) => isStoreError(e, 'INVALID'),
  );
  assert.throws(
    () => createMongoStore('mongodb://127.0.0.1:1/db', { poolSize: 1001 }),
    (e) => isStoreError(e, 'INVALID'),
  );
});

it('stores a counter key the same way on every backend: short ones as they are, long ones as their SHA-256', () => {
  assert.equal(counterKey('rl:sign-in:ip:192.0.2.1'), 'rl:sign-in:ip:192.0.2.1');
  assert.equal(counterKey('k'.repeat(128)), 'k'.repeat(128));
  const long = `lock:${'a'.repeat(300)}@example.com`;
  assert.match(counterKey(long), /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(counterKey(long), counterKey(`${long}x`));
  assert.ok(counterKey('é'.repeat(5000)).length <= 255, 'fits MySQL VARCHAR(255)');
  assert.notEqual(
    counterKey(counterKey(long)),
    counterKey(long),
    'a key spelled like a stored hash is hashed again, never taken for it',
  );
});
