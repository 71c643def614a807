// A migration file's first line names the schema version it writes: two files once both said
// "Version 3", and a reader chasing a schema change by its header landed in the wrong one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { MIGRATIONS } from '../../src/store/migrations/index.js';

const DIR = new URL('../../src/store/migrations/', import.meta.url);

describe('migration files', () => {
  it('each say in their first line the version they declare, and the file name agrees', () => {
    const files = readdirSync(DIR)
      .filter((f) => /^v\d{4}\.ts$/.test(f))
      .sort();
    assert.equal(files.length, MIGRATIONS.length, 'one file per listed migration');
    for (const file of files) {
      const text = readFileSync(new URL(file, DIR), 'utf8');
      const declared = Number(/^\s*version: (\d+),$/m.exec(text)?.[1]);
      assert.equal(declared, Number(file.slice(1, 5)), `${file} declares version ${declared}`);
      assert.match(
        text.split('\n')[0]!,
        new RegExp(`^// Version ${declared}\\b`),
        `${file}'s header names version ${declared}`,
      );
    }
  });
});
