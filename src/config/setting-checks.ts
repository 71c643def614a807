// One setting's declaration (config/schema.ts has the list) and the small checks its entries are made of.
// A check returns the problems with a given text, as user-facing sentences; none means the text is fine.
import { splitList } from './settings.js';

export interface Setting<T> {
  /** The environment variable; absent for options that only exist on the command line (--demo). */
  env?: `GATEHOUSE_${string}`;
  /** Older names still read when `env` is unset (AUTH_SECRET). */
  aliases?: readonly string[];
  /** The `gatehouse serve` option and the placeholder the help shows; no `arg`: an on/off switch. */
  flag?: { name: string; arg?: string };
  /** The text used when neither option nor variable is given. */
  default?: string;
  help: string;
  /** Problems with a given value (never called for an absent one). */
  check?(text: string): string[];
  /** The typed value; `undefined` when absent and without default. Only called once `check` passed. */
  parse(text: string | undefined): T;
}

export const setting = <T>(s: Setting<T>): Setting<T> => s;
export const text = (t: string | undefined) => t;
export const optional = (t: string | undefined) => t ?? null;
export const list = (t: string | undefined) => splitList(t ?? '');
/** Most variables treat an empty value as unset (`GATEHOUSE_DB_POOL=` in a compose file). */
export const ifSet = (check: (t: string) => string[]) => (t: string) => (t === '' ? [] : check(t));
export const problem = (ok: boolean, message: string) => (ok ? [] : [message]);
export const eachOf = (check: (item: string) => string | null) => (t: string) =>
  splitList(t).flatMap((item) => check(item) ?? []);

export function isWebUrl(t: string): boolean {
  try {
    const u = new URL(t);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** scheme://host[:port] and nothing more. */
export function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value.replace(/\/$/, '').toLowerCase();
  } catch {
    return false;
  }
}

/** A parser that throws a sentence becomes a check. */
export function thrown(fn: () => unknown): string[] {
  try {
    fn();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

export function prefixed(where: string, message: string | null): string | null {
  return message && `${where}: ${message}`;
}
