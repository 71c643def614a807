// The rules the gate applies, built once per settings change: public paths first (they are `--public`
// rules, architecture.md#access), then the access rules in order, then — in mode `org-only` — one last
// rule that lets only the organisation's domains through. `restricts` says whether any rule can refuse a
// signed-in user — when none can, the signed-in hot path skips rule matching altogether.
import type { LiveSettings } from '../config/settings.js';
import { publicPathRules, type AccessDefault, type AccessRule } from './rules.js';

export interface AccessPolicy {
  rules: readonly AccessRule[];
  /** Where no rule applies (`gatehouse access default`). */
  fallback: AccessDefault;
  /** Some rule allows only some users, needs a second factor or limits methods, or the default is deny. */
  restricts: boolean;
  /** Some rule names methods: method overrides must be decided too (admission/door.ts). */
  limitsMethods: boolean;
}

const built = new WeakMap<LiveSettings, AccessPolicy>();

export function policyOf(settings: LiveSettings): AccessPolicy {
  let policy = built.get(settings);
  if (!policy) {
    const rules = rulesInForce(settings);
    // A method-limited rule can refuse the methods it does not list, public or not.
    const restricts = settings.accessDefault === 'deny' || rules.some((r) => !r.public || r.methods);
    policy = { rules, fallback: settings.accessDefault, restricts, limitsMethods: rules.some((r) => r.methods) };
    built.set(settings, policy);
  }
  return policy;
}

/**
 * The one ordering of every rule a server applies; `gatehouse access list/test` and the admin console
 * show exactly this. `org-only` is `--allow domain:…` for every path, placed last so that a rule the
 * operator wrote (a public `/healthz`, a contractor's `email:` on `/docs/*`) still decides first.
 */
export function rulesInForce(
  s: Pick<LiveSettings, 'mode' | 'publicPaths' | 'access' | 'allowedDomains'>,
): AccessRule[] {
  const rules = [...publicPathRules(s.publicPaths), ...s.access];
  if (s.mode === 'org-only') rules.push(orgOnlyRule(s.allowedDomains));
  return rules;
}

export function orgOnlyRule(domains: readonly string[]): AccessRule {
  return { pattern: '/*', allow: domains.map((d) => ({ kind: 'domain' as const, value: d.toLowerCase() })) };
}
