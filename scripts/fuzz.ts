// A longer fuzz run than CI's: `npm run fuzz -- 50000 [seed] [upgrades]`. Same checks as
// test/security/fuzz.test.ts, including the upgrade/pipeline connections (a third as many as single
// requests unless `upgrades` says otherwise).
import { spawnSync } from 'node:child_process';

const [count = '50000', seed = String(Date.now() % 1e9), upgrades = String(Math.round(Number(count) / 3))] =
  process.argv.slice(2);
process.stdout.write(`fuzz: ${count} requests and ${upgrades} upgrade/pipeline connections, seed ${seed}\n`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/security/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_COUNT: count, FUZZ_SEED: seed, FUZZ_UPGRADES: upgrades },
});
process.exitCode = r.status ?? 1;
