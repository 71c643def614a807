// The one explanation of an access decision, in words: `gatehouse access test` prints it and the admin
// console shows it, so the two can never disagree (architecture.md#access).
import { decide, type AccessDefault, type AccessRule, type Decision, type Subject } from './rules.js';
import { readPath } from './paths.js';

export interface Explanation {
  decision: Decision;
  /** `DENIED (403): GET /admin as ada@example.com (role member)` */
  headline: string;
  /** Which rule decided, and why. */
  reason: string;
  /** How the path was read, when a lenient app would read it differently from how it was written. */
  reading: string | null;
}

const VERDICT: Record<Decision['outcome'], string> = {
  allow: 'ALLOWED',
  public: 'PUBLIC',
  'sign-in': 'SIGN-IN NEEDED',
  deny: 'DENIED (403)',
  mfa: 'SECOND FACTOR NEEDED',
  malformed: 'REFUSED (400)',
};

/** A stored user as a rule sees them, signed in with `provider` (what `access test --provider` says;
 *  password by default). */
export function subjectOfUser(
  user: { email: string; role: string; groups: readonly string[] },
  provider = 'password',
): Subject {
  return { email: user.email, role: user.role, groups: user.groups, provider };
}

export function explain(
  rules: readonly AccessRule[],
  method: string,
  path: string,
  subject: Subject | null,
  fallback: AccessDefault = 'allow',
): Explanation {
  const decision = decide(rules, method, path, subject, fallback);
  const read = readPath(path);
  const raw = path.split('?')[0]!;
  const reading =
    read === null
      ? null
      : read.key !== raw
        ? `read as ${read.key}, as a lenient app would (decoded, any case, trailing "/" or "." dropped)`
        : null;
  const groups = subject?.groups.length ? `, groups ${subject.groups.join(', ')}` : '';
  const who = subject ? ` as ${subject.email} (role ${subject.role}${groups})` : ' signed out';
  return {
    decision,
    headline: `${VERDICT[decision.outcome]}: ${method.toUpperCase()} ${path}${who}`,
    reason: decision.reason,
    reading,
  };
}
