// A server database whose driver package is not installed (pg, mysql2 and mongodb are optional
// dependencies) must say in one sentence what to install — simulated with a failing importer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMissingPackage, loadDriver, missingDriverMessage } from '../../src/store/drivers.js';
import { isStoreError } from '../../src/store/types.js';

const notFound = (pkg: string) =>
  Object.assign(new Error(`Cannot find package '${pkg}' imported from /srv/gatehouse/dist/store/x.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

describe('missing database driver', () => {
  it('names the package to install, in one sentence', async () => {
    await assert.rejects(
      loadDriver('postgres', () => Promise.reject(notFound('pg'))),
      (err: Error) => isStoreError(err) && err.message === 'bind postgres needs the pg package: npm install pg',
    );
    await assert.rejects(
      loadDriver('mysql', () => Promise.reject(notFound('mysql2'))),
      { message: 'bind mysql needs the mysql2 package: npm install mysql2' },
    );
    await assert.rejects(
      loadDriver('mongodb', () => Promise.reject(notFound('mongodb'))),
      { message: 'bind mongodb needs the mongodb package: npm install mongodb' },
    );
    assert.equal(missingDriverMessage('postgres'), 'bind postgres needs the pg package: npm install pg');
  });

  it('passes other failures through unchanged', async () => {
    const other = new Error('boom');
    await assert.rejects(
      loadDriver('postgres', () => Promise.reject(other)),
      (err) => err === other,
    );
    // Another package missing (one the driver needs) is not the driver missing.
    const dep = notFound('pg-protocol');
    await assert.rejects(
      loadDriver('postgres', () => Promise.reject(dep)),
      (err) => err === dep,
    );
    assert.equal(await loadDriver('postgres', async () => 42), 42);
  });

  it('recognises the error Node really gives for a package that is not installed', async () => {
    const err = await import('gatehouse-no-such-driver' as string).catch((e: unknown) => e);
    assert.ok(isMissingPackage(err, 'gatehouse-no-such-driver'));
    assert.ok(!isMissingPackage(err, 'pg'));
  });
});
