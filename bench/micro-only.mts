// `node --import tsx bench/micro-only.ts`: just the micro-benchmarks.
import { micro } from './micro.js';

const m = await micro(process.argv.includes('--quick'));
process.stdout.write(
  `cookie verify + cached session ${m.cachedUs.toFixed(2)} µs; uncached (SQLite) ${m.uncachedUs.toFixed(1)} µs; argon2id hash ${m.hashMs.toFixed(1)} ms\n`,
);
