// Access rules (architecture.md#access): ordered, first match wins. A rule names a path pattern — an exact path
// (`/status`) or a prefix (`/admin/*`, which matches `/admin` and everything below) — and either makes
// it public or lists who may pass, optionally for some methods only.
//
// Paths are read as paths.ts says: a rule that limits who passes matches every spelling the most
// lenient app would take for its path (`/%61dmin`, `/ADMIN`, `/admin./x`, `/billing/`); a public rule
// opens only the path as written. Ambiguous spellings are refused with 400.
//
// Methods: a rule with methods decides only those (GET covers HEAD). A request whose path such a rule
// names, with a method it does not list, goes on to later rules — and if none applies it is refused:
// naming a path in a rule never leaves that path open to everyone.
//
// Pure functions of (rules, request, principal): no I/O, so the hot path pays a loop over strings.

// Rules as text (parsing, the stored form, problems) are rule-syntax.ts, re-exported here for config/.
import { hasSecondFactor } from '../mfa/policy.js';
import { compilePattern, namesPath, opensPath, readPath, type RequestPath, type PathPattern } from './paths.js';
import { formatWho, type AccessRule, type Who } from './rule-syntax.js';

export {
  describeRule,
  formatWho,
  parseRules,
  parseWho,
  patternProblem,
  publicPathRules,
  ruleProblems,
  storedRule,
  type AccessRule,
  type StoredRule,
  type Who,
} from './rule-syntax.js';

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
  | { outcome: 'deny'; rule: number | null; reason: string }
  | { outcome: 'mfa'; rule: number; reason: string };

/** A pattern taken apart once (per rule object), so matching 50 rules allocates nothing per request. */
interface Matcher {
  path: PathPattern;
  /** Upper-case methods, with HEAD wherever GET is listed; undefined: every method. */
  methods: readonly string[] | undefined;
}
// Per rule list (the gate's is built once per settings change): one lookup per request, not one per rule.
const compiled = new WeakMap<readonly AccessRule[], Matcher[]>();

function matchersOf(rules: readonly AccessRule[]): Matcher[] {
  let ms = compiled.get(rules);
  if (!ms) {
    ms = rules.map((r) => ({ path: compilePattern(r.pattern), methods: methodsCovered(r.methods) }));
    compiled.set(rules, ms);
  }
  return ms;
}

/** `GET` covers `HEAD`: a HEAD is a GET without the body, and every app answers it so. */
function methodsCovered(methods: readonly string[] | undefined): readonly string[] | undefined {
  if (!methods) return undefined;
  return methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods;
}

/** What the rules say about a method and path: the first rule that applies, or why none does. */
interface Match {
  index: number; // -1: no rule applies
  /** A rule names the path but not this method: with no later rule, the request is refused, not let through. */
  namedBy: number;
}

function firstMatch(rules: readonly AccessRule[], method: string, path: RequestPath): Match {
  const ms = matchersOf(rules);
  let namedBy = -1;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    // An opening rule needs both readings of the path; a limiting one only the lenient one (paths.ts).
    if (!(rules[i]!.public ? opensPath(m.path, path) : namesPath(m.path, path))) continue;
    if (!m.methods || m.methods.includes(method)) return { index: i, namedBy };
    if (namedBy === -1) namedBy = i;
  }
  return { index: -1, namedBy };
}

const ruleLabel = (index: number, rule: AccessRule) => `rule ${index + 1} (${rule.pattern})`;

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

function firstAdmitting(allow: readonly Who[] | undefined, subject: Subject): Who | undefined {
  if (allow) for (const w of allow) if (admits(w, subject)) return w;
  return undefined;
}

/** What happens where no rule applies: any signed-in user passes (`allow`, the default), or no one (`deny`). */
export type AccessDefault = 'allow' | 'deny';

/** The first rule that applies to this method and path decides; `subject` is null when signed out. */
export function decide(
  rules: readonly AccessRule[],
  method: string,
  rawUrl: string,
  subject: Subject | null,
  fallback: AccessDefault = 'allow',
): Decision {
  const path = readPath(rawUrl);
  if (path === null)
    return { outcome: 'malformed', reason: 'the path is ambiguous (encoded separators, dot segments or the like)' };
  const { index, namedBy } = firstMatch(rules, method.toUpperCase(), path);
  if (index === -1) return noRuleApplies(rules, method, namedBy, subject, fallback);
  const rule = rules[index]!;
  if (rule.public) return { outcome: 'public', rule: index, reason: `${ruleLabel(index, rule)} is public` };
  if (!subject) return { outcome: 'sign-in', rule: null, reason: `${ruleLabel(index, rule)} needs a signed-in user` };
  const who = firstAdmitting(rule.allow, subject);
  if (!who) {
    const allowed = (rule.allow ?? []).map(formatWho).join(', ');
    return {
      outcome: 'deny',
      rule: index,
      reason: `${ruleLabel(index, rule)} allows ${allowed}; this user is none of them`,
    };
  }
  if (rule.mfa && !subject.mfa)
    return { outcome: 'mfa', rule: index, reason: `${ruleLabel(index, rule)} needs a second factor in this session` };
  return new Allowed(index, rule, who);
}

/** No rule decides: a path a method-limited rule names is refused; otherwise the access default applies. */
function noRuleApplies(
  rules: readonly AccessRule[],
  method: string,
  namedBy: number,
  subject: Subject | null,
  fallback: AccessDefault,
): Decision {
  if (!subject) return { outcome: 'sign-in', rule: null, reason: 'no rule lets this in without signing in' };
  if (namedBy !== -1) {
    const rule = rules[namedBy]!;
    const named = `${ruleLabel(namedBy, rule)} names this path for ${rule.methods!.join(', ')} only`;
    return { outcome: 'deny', rule: namedBy, reason: `${named}, and no later rule allows ${method.toUpperCase()}` };
  }
  if (fallback === 'deny')
    return { outcome: 'deny', rule: null, reason: 'no rule matched and the access default is deny' };
  return { outcome: 'allow', rule: null, reason: 'no rule matched: any signed-in user passes (access default allow)' };
}

/** The allowed signed-in request is the hot path: its sentence is only built if someone reads it (a
 *  prototype getter keeps one object shape; a getter in an object literal made each decision slow). */
class Allowed {
  readonly outcome = 'allow' as const;
  readonly #matched: AccessRule;
  readonly #who: Who;
  constructor(
    readonly rule: number,
    matched: AccessRule,
    who: Who,
  ) {
    this.#matched = matched;
    this.#who = who;
  }
  get reason(): string {
    return `${ruleLabel(this.rule, this.#matched)} allows ${formatWho(this.#who)}`;
  }
  toJSON() {
    return { outcome: this.outcome, rule: this.rule, reason: this.reason };
  }
}

/** The subject of a principal (a signed-in user, or an API key acting for one). */
export function subjectOf(p: {
  email: string;
  role: string;
  provider: string;
  groups: readonly string[];
  amr?: readonly string[];
  scopes?: readonly string[];
}): Subject {
  return {
    email: p.email,
    role: p.role,
    provider: p.provider,
    groups: p.groups,
    mfa: hasSecondFactor(p.amr),
    ...(p.scopes ? { scopes: p.scopes } : {}),
  };
}
