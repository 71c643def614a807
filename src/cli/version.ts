// `gatehouse --version`: read package.json at run time, so the number printed is the one installed
// (a build-time constant would go stale the first time someone bumps the version without rebuilding).
import { readFileSync } from 'node:fs';

/** From dist/cli/version.js (and src/cli/version.ts under tsx) the package root is two levels up. */
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

export function packageVersion(): string {
  const parsed: unknown = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8'));
  const version = (parsed as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`${PACKAGE_JSON.pathname} has no version`);
  return version;
}
