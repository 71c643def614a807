// src/young-generation.ts: start-up holds V8's young generation at its initial size; release gives
// growth back. Run in a child process so this file's own heap history does not decide the result.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const MODULE = new URL('../../src/young-generation.ts', import.meta.url).href;

// Keeps many small objects alive, so collections see mostly survivors (as start-up does), and reports
// the young generation's size after it while held, then after the same again once released.
const probe = `
  import { getHeapSpaceStatistics } from 'node:v8';
  import { holdYoungGeneration, releaseYoungGeneration } from '${MODULE}';
  const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  const kept = [];
  const survivors = () => { for (let i = 0; i < 400_000; i++) kept.push({ i, s: 'x' + i }); };
  holdYoungGeneration();
  const before = young();
  survivors();
  const held = young();
  releaseYoungGeneration();
  survivors();
  console.log(JSON.stringify({ before, held, released: young() }));
`;

describe('young generation', () => {
  it('does not grow while held, and grows again once released', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const { before, held, released } = JSON.parse(r.stdout) as Record<string, number>;
    assert.equal(held, before, 'held: survivors must not grow it');
    assert.ok(released > held, `released: survivors grow it again (${held} → ${released})`);
  });
});
