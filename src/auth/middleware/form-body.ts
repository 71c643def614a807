// Forms are small and browsers always send Content-Length; anything else is refused before it is read.
import type { MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../context.js';
import { errorPage } from '../pages.js';

const FORM_TYPES = /^\s*(multipart\/form-data|application\/x-www-form-urlencoded)\b/i;

export function formBody({ maxBytes }: { maxBytes: number }): MiddlewareHandler<AuthEnv> {
  return async function formBody(c, next) {
    const headers = c.get('headers');
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > maxBytes)
      return errorPage(c, 413, 'Request too large', 'That form was larger than we accept.');
    if (length === undefined && headers['transfer-encoding'] !== undefined)
      return errorPage(c, 411, 'Length required', 'Send the form with a Content-Length.');
    // Parse a posted form here, once (Hono caches it for the handler): a body that cannot be parsed —
    // a multipart body without a boundary, say — is the client's mistake, answered 400, never a 500.
    if (c.req.method === 'POST' && FORM_TYPES.test(c.req.header('content-type') ?? '')) {
      try {
        await c.req.parseBody();
      } catch {
        return errorPage(c, 400, 'Bad request', 'That form could not be read. Please try again.');
      }
    }
    await next();
    return undefined;
  };
}
