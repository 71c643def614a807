// A longer fuzz run than CI's: `npm run fuzz -- 50000 [seed]`. Same checks as test/security/fuzz.test.ts.
import { spawnSync } from 'node:child_process';

const [count = '50000', seed = String(Date.now() % 1e9)] = process.argv.slice(2);
process.stdout.write(`fuzz: ${count} requests, seed ${seed}\n`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/security/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_COUNT: count, FUZZ_SEED: seed },
});
process.exitCode = r.status ?? 1;
