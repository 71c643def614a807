// The console's "what was done to whom" notice. It rides on the redirect after a change, signed with
// the admin's session: a link someone else made cannot put words ("Deleted …") into the console.
import type { AuthContext } from './context.js';
import { hmac, safeEqual } from '../security/tokens.js';

type Sentences = Record<string, (who: string) => string>;

const doneSig = (c: AuthContext, sessionId: string, action: string, who: string) =>
  hmac(c.var.deps.settings.current().secret, `admin-done:${sessionId}:${action}:${who}`);

/** A 303 to `path` (a console page) carrying the signed notice. */
export function doneRedirect(c: AuthContext, sessionId: string, path: string, action: string, who: string): Response {
  return c.redirect(
    `${path}?${new URLSearchParams({ done: action, who, sig: doneSig(c, sessionId, action, who) })}`,
    303,
  );
}

/** The sentence for the notice on this request, when it is there and signed for this session. */
export function doneNotice(c: AuthContext, sessionId: string, sentences: Sentences): string | null {
  const action = c.req.query('done') ?? '';
  const who = c.req.query('who') ?? '';
  const sig = c.req.query('sig') ?? '';
  if (!Object.hasOwn(sentences, action) || !who || who.length > 320) return null;
  return safeEqual(sig, doneSig(c, sessionId, action, who)) ? sentences[action]!(who) : null;
}
