// The shape of src/ (docs/architecture.md#shape): no function over 60 lines, no file over 300, no line over 120
// characters — measured on the code as Prettier formats it, where packing lines cannot hide a long function.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, oversized } from '../../scripts/long-functions.js';

describe('the shape of src/', () => {
  it(`has no function over ${LIMITS.functionLines} lines, file over ${LIMITS.fileLines} or line over ${LIMITS.lineWidth} characters`, () => {
    assert.deepEqual(
      oversized().map((o) => `${o.kind} ${o.name} at ${o.where}: ${o.size}`),
      [],
    );
  });
});
