// `gatehouse open [--user EMAIL]`: a one-time link that signs that user (default: the oldest admin) into
// the admin console of the running server (architecture.md#devices). The CLI writes the hash; the server uses it up.
import { normalizeEmail } from '../accounts/email.js';
import { handoffLink, HANDOFF_TTL_MS, issueHandoff, oldestAdmin } from '../session/handoff.js';
import { cliLinkOrigin } from './pair.js';
import { CommandError, parseCommand, scopeFrom, UsageError, withStore, type Io } from './common.js';

export const OPEN_HELP =
  'gatehouse open [--user EMAIL]                    ' +
  'a one-time link into the admin console (60 s, once; default: the oldest admin)';

export async function openCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, { help: OPEN_HELP, options: { user: { type: 'string' } } });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.user !== undefined && !normalizeEmail(values.user)) throw new UsageError('--user needs an EMAIL', 'open');
  const scope = scopeFrom(values, io.env);
  const origin = cliLinkOrigin(io.env);
  return withStore(scope, io, async (store) => {
    const user = values.user ? await store.findUserByEmail(normalizeEmail(values.user)) : await oldestAdmin(store);
    if (!user)
      throw new CommandError(
        values.user
          ? `there is no user ${values.user}`
          : 'there is no admin yet: create one with the setup link (`gatehouse auth enable` prints it)',
        'open',
      );
    if (user.disabled) throw new CommandError(`${user.email} is disabled; enable the account first`, 'open');
    const token = await issueHandoff(store, user.id, Date.now());
    io.out(`✓ one-time link for ${user.email} (valid ${HANDOFF_TTL_MS / 1000} s, once):`);
    io.out(handoffLink(origin, '/auth', token));
    return 0;
  });
}
