// The pool size of a server binding: from the URL (?pool= or ?max=), else the configured size, else 10,
// bounded 1..1000; the parameter is taken out of the URL because the drivers do not know it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { takePoolSize } from '../../src/store/rules.js';
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
    assert.throws(() => takePoolSize(new URL(`postgres://u@h/db?pool=${bad}`), undefined), (e) => isStoreError(e, 'INVALID'), bad);
  }
  assert.throws(() => createPostgresStore('postgres://u@127.0.0.1:1/db?max=0', {}), (e) => isStoreError(e, 'INVALID'));
  assert.throws(() => createMysqlStore('mysql://u@127.0.0.1:1/db', { poolSize: 0 }), (e) => isStoreError(e, 'INVALID'));
  assert.throws(() => createMysqlStore('mysql://u@127.0.0.1:1/db', { prefix: 'Bad-Prefix' }), (e) => isStoreError(e, 'INVALID'));
});
