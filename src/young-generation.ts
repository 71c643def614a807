// V8 doubles the young generation whenever enough of it survives a collection, and keeps it until memory
// runs short. Start-up is nearly all survivors (some 200 modules compiled, the warm-up's code and
// caches): it grew the young generation from 2 to 16 MiB within 200 ms of spawn, before the first
// visitor came, and a quiet instance then held 14 MiB it never used (bench: startup). So bin/gatehouse.js holds growth
// from its first line, and `serve` releases it once it listens: from then on traffic grows it exactly
// as V8 would. V8 reads the factor at every collection, so changing it at run time takes effect.
import { setFlagsFromString } from 'node:v8';

/** V8's own default (`node --v8-options`), restored on release. */
const V8_GROWTH_FACTOR = 2;

export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

export function releaseYoungGeneration(): void {
  setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
}
