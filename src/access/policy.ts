// The rules the gate applies, built once per settings change: public paths first (they are `--public`
// rules, architecture.md#access), then the access rules in order. `restricts` says whether any rule can refuse a
// signed-in user — when none can, the signed-in hot path skips rule matching altogether.
import type { LiveSettings } from '../config/settings.js';
import { publicPathRules, type AccessRule } from './rules.js';

export interface AccessPolicy {
  rules: readonly AccessRule[];
  /** Some rule allows only some users (or needs a second factor). */
  restricts: boolean;
}

const built = new WeakMap<LiveSettings, AccessPolicy>();

export function policyOf(settings: LiveSettings): AccessPolicy {
  let policy = built.get(settings);
  if (!policy) {
    const rules = [...publicPathRules(settings.publicPaths), ...settings.access];
    policy = { rules, restricts: rules.some((r) => !r.public) };
    built.set(settings, policy);
  }
  return policy;
}
