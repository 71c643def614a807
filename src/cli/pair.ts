// `gatehouse pair --user EMAIL`: a pairing code for a user, made from the operator's machine (architecture.md#devices)
// — the CLI writes the code's hash into the store the running server reads, and the server uses it up.
import { normalizeEmail } from '../accounts/email.js';
import { setupOrigin } from '../auth/setup-link.js';
import { issuePairingCode, pairingLink, PAIR_TTL_MS } from '../session/pairing.js';
import { CommandError, parseCommand, scopeFrom, UsageError, withStore, type Io } from './common.js';

export const PAIR_HELP =
  'gatehouse pair --user EMAIL [--qr]                ' +
  'a pairing code: sign that user in on another device (5 min, once)';

export async function pairCommand(args: string[], io: Io): Promise<number> {
  const options = { user: { type: 'string' }, qr: { type: 'boolean' } } as const;
  const parsed = parseCommand(args, io, { help: PAIR_HELP, options });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.user) throw new UsageError('pair needs --user EMAIL', 'pair');
  const scope = scopeFrom(values, io.env);
  const origin = cliLinkOrigin(io.env);
  return withStore(scope, io, async (store) => {
    const user = await store.findUserByEmail(normalizeEmail(values.user));
    if (!user) throw new CommandError(`there is no user ${values.user}`, 'pair');
    if (user.disabled) throw new CommandError(`${user.email} is disabled; enable the account first`, 'pair');
    const { code, expiresAt } = await issuePairingCode(store, user.id, 'the command line (gatehouse pair)', Date.now());
    const link = pairingLink(origin, '/auth', code);
    const validity = `valid ${PAIR_TTL_MS / 60_000} minutes, until ${expiresAt.toISOString()}, once`;
    io.out(`✓ pairing code for ${user.email}: ${code} (${validity})`);
    io.out(link);
    // Loaded here, not at the top: every command (serve too) loads this module for its help text.
    if (values.qr) io.out(await (await import('qrcode')).toString(link, { type: 'terminal', small: true }));
    io.err('On the other device, open the link (or scan it with --qr), or enter the code at /auth/pair.');
    return 0;
  });
}

/** Where links printed by the CLI point: the serve settings in the environment, as `auth enable` does. */
export function cliLinkOrigin(env: NodeJS.ProcessEnv): string {
  try {
    return setupOrigin({ publicUrl: env.GATEHOUSE_PUBLIC_URL, host: env.GATEHOUSE_HOST, port: env.GATEHOUSE_PORT });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
