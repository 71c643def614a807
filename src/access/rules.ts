// Access rules (architecture.md#access): ordered, first match wins. A rule names a path pattern — an exact path
// (`/status`) or a prefix (`/admin/*`, which matches `/admin` and everything below) — and either makes
// it public or lists who may pass. With no matching rule any signed-in user passes, as before rules.
//
// Rules are matched on the normalised path only (never the query), with the same fail-closed
// normalisation as public paths: a path whose raw form is ambiguous (dot segments, encoded slashes or
// dots, backslashes, ";" parameters, NUL, double encoding) cannot be matched safely and is refused
// with 400 — it never slips past a rule by being read differently by the app.
//
// Pure functions of (rules, request, principal): no I/O, so the hot path pays a loop over strings.

export type Who =
  | { kind: 'any' }
  | { kind: 'role' | 'group' | 'email' | 'domain' | 'provider' | 'scope'; value: string };

export interface AccessRule {
  pattern: string;
  public?: boolean;
  allow?: Who[];
  /** Upper-case methods the rule applies to; absent: every method. */
  methods?: string[];
  /** A second factor in this session is required as well (architecture.md#mfa). */
  mfa?: boolean;
}

/** What a rule needs to know about who is asking. */
export interface Subject {
  email: string;
  role: string;
  provider: string;
  groups: readonly string[];
  scopes?: readonly string[]; // API keys and OAuth tokens only
  mfa?: boolean;
}

export type Decision =
  | { outcome: 'malformed'; reason: string }
  | { outcome: 'public'; rule: number; reason: string }
  | { outcome: 'allow'; rule: number | null; reason: string }
  | { outcome: 'sign-in'; rule: number | null; reason: string }
  | { outcome: 'deny'; rule: number; reason: string }
  | { outcome: 'mfa'; rule: number; reason: string };

const WHO_KINDS = ['role', 'group', 'email', 'domain', 'provider', 'scope'] as const;

/** `any`, `role:admin`, `group:finance`, …; a problem sentence, or the parsed value. */
export function parseWho(text: string): Who | string {
  const t = text.trim();
  if (t === 'any') return { kind: 'any' };
  const colon = t.indexOf(':');
  const kind = t.slice(0, colon) as (typeof WHO_KINDS)[number];
  const value = t.slice(colon + 1).trim().toLowerCase();
  if (colon <= 0 || !WHO_KINDS.includes(kind)) return `"${t}" is not one of any, ${WHO_KINDS.map((k) => `${k}:…`).join(', ')}`;
  if (!value || /[\s,]/.test(value)) return `"${t}" needs a value without spaces or commas`;
  return { kind, value };
}

export function formatWho(who: Who): string {
  return who.kind === 'any' ? 'any' : `${who.kind}:${who.value}`;
}

/** A pattern is an absolute path, optionally ending in "/*"; nothing else is a wildcard. */
export function patternProblem(pattern: string): string | null {
  if (!pattern.startsWith('/')) return `pattern "${pattern}" must start with "/"`;
  if (/[?#\s\\%;]/.test(pattern)) return `pattern "${pattern}" must be a plain path (no query, spaces, "%", ";" or "\\")`;
  const star = pattern.indexOf('*');
  if (star !== -1 && !(pattern.endsWith('/*') && star === pattern.length - 1)) return `pattern "${pattern}" may only end in "/*"`;
  if (pattern !== '/' && pattern.replace(/\/\*$/, '') !== normalisedPath(pattern.replace(/\/\*$/, '') || '/')) return `pattern "${pattern}" is not a normalised path`;
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

/**
 * The path a request is for, normalised, or null when its raw form is ambiguous (see the file
 * comment). The query never takes part.
 */
export function normalisedPath(rawUrl: string): string | null {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('//')) return null;
  if (/[\\;#\u0000-\u001f]|%(2f|5c|00|25|2e|3b|23)/i.test(path)) return null;
  let normalised: string;
  try {
    normalised = new URL(path, 'http://x.invalid').pathname;
  } catch {
    return null;
  }
  if (normalised !== path) return null;
  try {
    decodeURIComponent(path); // invalid UTF-8 (overlong `%c0%ae` dots): the app might read anything
  } catch {
    return null;
  }
  return path;
}

export function matchesPattern(path: string, pattern: string): boolean {
  if (pattern.endsWith('/*')) {
    const base = pattern.slice(0, -2);
    return path === base || path.startsWith(base + '/') || (base === '' && path.startsWith('/'));
  }
  return path === pattern;
}

function admits(who: Who, s: Subject): boolean {
  switch (who.kind) {
    case 'any':
      return true;
    case 'role':
      return s.role === who.value;
    case 'group':
      return s.groups.includes(who.value);
    case 'email':
      return s.email === who.value;
    case 'domain':
      return s.email.slice(s.email.lastIndexOf('@') + 1) === who.value;
    case 'provider':
      return s.provider === who.value;
    case 'scope':
      return s.scopes?.includes(who.value) ?? false;
  }
}

/** The first rule that applies to this method and path decides; `subject` is null when signed out. */
export function decide(rules: readonly AccessRule[], method: string, rawUrl: string, subject: Subject | null): Decision {
  const path = normalisedPath(rawUrl);
  if (path === null) return rules.length ? { outcome: 'malformed', reason: 'the path is ambiguous (encoded or dot segments)' } : subject ? { outcome: 'allow', rule: null, reason: 'signed in; no rules' } : { outcome: 'sign-in', rule: null, reason: 'not signed in' };
  const m = method.toUpperCase();
  const index = rules.findIndex((r) => matchesPattern(path, r.pattern) && (!r.methods || r.methods.includes(m)));
  if (index === -1) {
    return subject ? { outcome: 'allow', rule: null, reason: 'no rule matched: any signed-in user passes' } : { outcome: 'sign-in', rule: null, reason: 'no rule matched and not signed in' };
  }
  const rule = rules[index]!;
  const label = `rule ${index + 1} (${rule.pattern})`;
  if (rule.public) return { outcome: 'public', rule: index, reason: `${label} is public` };
  if (!subject) return { outcome: 'sign-in', rule: null, reason: `${label} needs a signed-in user` };
  const who = (rule.allow ?? []).find((w) => admits(w, subject));
  if (!who) return { outcome: 'deny', rule: index, reason: `${label} allows ${(rule.allow ?? []).map(formatWho).join(', ')}; this user is none of them` };
  if (rule.mfa && !subject.mfa) return { outcome: 'mfa', rule: index, reason: `${label} needs a second factor in this session` };
  return { outcome: 'allow', rule: index, reason: `${label} allows ${formatWho(who)}` };
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
    return { pattern: String(r.pattern ?? ''), ...(r.public === true ? { public: true } : {}), ...(allow.length ? { allow } : {}), ...(methods ? { methods } : {}), ...(r.mfa === true ? { mfa: true } : {}) };
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

/** The subject of a principal (a signed-in user, or an API key acting for one). */
export function subjectOf(p: { email: string; role: string; provider: string; groups: readonly string[]; scopes?: readonly string[] }): Subject {
  return { email: p.email, role: p.role, provider: p.provider, groups: p.groups, ...(p.scopes ? { scopes: p.scopes } : {}) };
}
