// What Gatehouse answers when a route fails or none matches: an error page, never a stack trace.
import type { ErrorHandler, NotFoundHandler } from 'hono';
import type { AuthEnv } from './context.js';
import { errorPage, storeUnavailablePage } from './pages.js';
import { HasherBusyError } from '../security/password.js';
import { isStoreError } from '../store/types.js';

export const onError: ErrorHandler<AuthEnv> = (err, c) => {
  // The client went away mid-request: nobody is left to answer.
  if (err.message === 'aborted' || (err as { code?: string }).code === 'ECONNRESET') return c.body(null, 400);
  if (isStoreError(err, 'UNAVAILABLE')) return storeUnavailablePage(c);
  if (err instanceof HasherBusyError)
    return errorPage(c, 503, 'Busy', 'Too many sign-ins at once. Please try again in a moment.', 2);
  c.var.deps.log(`gatehouse: ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
  return errorPage(c, 500, 'Something went wrong', 'Gatehouse hit an unexpected error. Please try again.');
};

export const notFound: NotFoundHandler<AuthEnv> = (c) =>
  errorPage(c, 404, 'Page not found', 'There is nothing at this address.');
