// Access rules as people and files write them (architecture.md#access): WHO as text (`role:admin`), path
// patterns, the stored form of the state file and GATEHOUSE_ACCESS, and every problem found at once.
// Matching a request against rules is rules.ts.
import { readPath } from './paths.js';

export type Who =
  { kind: 'any' } | { kind: 'role' | 'group' | 'email' | 'domain' | 'provider' | 'scope'; value: string };

export interface AccessRule {
  pattern: string;
  public?: boolean;
  allow?: Who[];
  /** Upper-case methods the rule applies to; absent: every method. */
  methods?: string[];
  /** A second factor in this session is required as well (architecture.md#mfa). */
  mfa?: boolean;
}

const WHO_KINDS = ['role', 'group', 'email', 'domain', 'provider', 'scope'] as const;

/** `any`, `role:admin`, `group:finance`, …; a problem sentence, or the parsed value. */
export function parseWho(text: string): Who | string {
  const t = text.trim();
  if (t === 'any') return { kind: 'any' };
  const colon = t.indexOf(':');
  const kind = t.slice(0, colon) as (typeof WHO_KINDS)[number];
  const value = t
    .slice(colon + 1)
    .trim()
    .toLowerCase();
  if (colon <= 0 || !WHO_KINDS.includes(kind))
    return `"${t}" is not one of any, ${WHO_KINDS.map((k) => `${k}:…`).join(', ')}`;
  if (!value || /[\s,]/.test(value)) return `"${t}" needs a value without spaces or commas`;
  return { kind, value };
}

export function formatWho(who: Who): string {
  return who.kind === 'any' ? 'any' : `${who.kind}:${who.value}`;
}

/** A pattern is an absolute path, optionally ending in "/*"; nothing else is a wildcard. */
export function patternProblem(pattern: string): string | null {
  if (!pattern.startsWith('/')) return `pattern "${pattern}" must start with "/"`;
  if (/[?#\s\\%;]/.test(pattern))
    return `pattern "${pattern}" must be a plain path (no query, spaces, "%", ";" or "\\")`;
  const star = pattern.indexOf('*');
  if (star !== -1 && !(pattern.endsWith('/*') && star === pattern.length - 1))
    return `pattern "${pattern}" may only end in "/*"`;
  const base = pattern.replace(/\/\*$/, '') || '/';
  if (readPath(base)?.key !== base.toLowerCase())
    return `pattern "${pattern}" is not a normalised path (no "//", dot segments, or trailing "/" or ".")`;
  return null;
}

/** Every problem of a rule list, for the one start-up message. */
export function ruleProblems(rules: readonly AccessRule[], where: string): string[] {
  const problems: string[] = [];
  rules.forEach((r, i) => {
    const at = `${where} rule ${i + 1}`;
    const p = typeof r.pattern === 'string' ? patternProblem(r.pattern) : 'a pattern is required';
    if (p) problems.push(`${at}: ${p}`);
    if (r.public && r.allow?.length) problems.push(`${at}: a rule is either public or allows someone, not both`);
    if (!r.public && !r.allow?.length) problems.push(`${at}: says neither public nor who is allowed`);
    if (r.public && r.mfa) problems.push(`${at}: a public rule cannot require a second factor`);
    for (const m of r.methods ?? []) if (!/^[A-Z]{1,16}$/.test(m)) problems.push(`${at}: "${m}" is not an HTTP method`);
  });
  return problems;
}

/** Public paths (GATEHOUSE_PUBLIC_PATHS) are `--public` rules placed first. */
export function publicPathRules(patterns: readonly string[]): AccessRule[] {
  return patterns.map((pattern) => ({ pattern, public: true }));
}

/** A rule as the state file and GATEHOUSE_ACCESS write it: WHO as text (`role:admin`). */
export interface StoredRule {
  pattern: string;
  public?: boolean;
  allow?: string[];
  methods?: string[];
  mfa?: boolean;
}

const RULE_KEYS = ['pattern', 'public', 'allow', 'methods', 'mfa'];

/** Stored rules (already-parsed JSON) into rules, with every problem found. */
export function parseRules(value: unknown, where: string): { rules: AccessRule[]; problems: string[] } {
  if (!Array.isArray(value)) return { rules: [], problems: [`${where} must be a list of rules`] };
  const problems: string[] = [];
  const rules = value.map((raw, i): AccessRule => {
    const at = `${where} rule ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at} must be an object`);
      return { pattern: '/' };
    }
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!RULE_KEYS.includes(k)) problems.push(`${at}: unknown key "${k}"`);
    const allow: Who[] = [];
    for (const w of Array.isArray(r.allow) ? r.allow : r.allow === undefined ? [] : [null]) {
      const parsed = typeof w === 'string' ? parseWho(w) : '"allow" must be a list of strings';
      if (typeof parsed === 'string') problems.push(`${at}: ${parsed}`);
      else allow.push(parsed);
    }
    const unreadable = Array.isArray(r.allow) && r.allow.length > 0 && allow.length === 0;
    const methods = Array.isArray(r.methods) ? r.methods.map((m) => String(m).toUpperCase()) : undefined;
    // A rule whose every WHO was unreadable keeps a placeholder, so it is not also reported as allowing no one.
    if (unreadable) allow.push({ kind: 'any' });
    return {
      pattern: String(r.pattern ?? ''),
      ...(r.public === true ? { public: true } : {}),
      ...(allow.length ? { allow } : {}),
      ...(methods ? { methods } : {}),
      ...(r.mfa === true ? { mfa: true } : {}),
    };
  });
  problems.push(...ruleProblems(rules, where));
  return { rules, problems };
}

export function storedRule(rule: AccessRule): StoredRule {
  return {
    pattern: rule.pattern,
    ...(rule.public ? { public: true } : {}),
    ...(rule.allow?.length ? { allow: rule.allow.map(formatWho) } : {}),
    ...(rule.methods ? { methods: rule.methods } : {}),
    ...(rule.mfa ? { mfa: true } : {}),
  };
}

/** One line per rule, as `access list` prints it. */
export function describeRule(rule: AccessRule): string {
  const who = rule.public ? 'public' : `allow ${(rule.allow ?? []).map(formatWho).join(', ')}`;
  return `${rule.pattern} ${who}${rule.methods ? ` (${rule.methods.join(', ')})` : ''}${rule.mfa ? ' +mfa' : ''}`;
}
