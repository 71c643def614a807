// Reading a posted form. The form-body middleware parsed it already (Hono caches the result), so this
// never fails on a bad body; a field is a string, or '' when absent or a file.
import type { AuthContext } from './context.js';

export type Form = Record<string, unknown>;

export const formOf = (c: AuthContext): Promise<Form> => c.req.parseBody();

export const field = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A single-use token from a query or form field, or null when absent or implausibly long. */
export function tokenParam(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : null;
}
