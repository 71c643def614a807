// The one-time link that makes the first admin (architecture.md#accounts): printed by `auth enable` and the first
// `serve` while there are no accounts, so a stranger who reaches a fresh deployment first cannot
// become its admin.
//
// A link ends up in places nobody cleans (CI output, container logs, shell history), so it must not
// outlive its purpose: only the newest printed link works, and none works once an admin exists.
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { OneTimeToken, Store } from '../store/types.js';

const SETUP_TTL_MS = 24 * 3600_000;
const ADMIN_SCAN_PAGE = 200;

/** What a presented setup link is worth right now. */
export type SetupLinkStatus = 'valid' | 'admin-exists' | 'invalid';

/** A line to print when the store has no users yet, else null. Every older link stops working. */
export async function setupLinkLine(store: Store, origin: string, prefix: string, now: number): Promise<string | null> {
  if ((await store.countUsers()) > 0) {
    if (await adminExists(store)) await burnSetupLinks(store); // e.g. an admin made by `users set-role`
    return null;
  }
  const setup = randomToken(32);
  // One live link at a time: a link printed by an earlier `auth enable` or start is dead from now on.
  await store.deleteTokens('setup');
  await store.createToken({
    hash: sha256Hex(setup),
    kind: 'setup',
    userId: null,
    email: null,
    createdAt: new Date(now),
    expiresAt: new Date(now + SETUP_TTL_MS),
  });
  return `setup: create the admin account at ${origin}${prefix}/sign-up?setup=${setup} (valid 24 h, once)`;
}

/** Whether any account has the admin role. Users are ordered by creation, and the admin is almost
 *  always the first account, so this usually reads one short page. */
export async function adminExists(store: Store): Promise<boolean> {
  if ((await store.countUsers()) === 0) return false;
  for (let offset = 0; ; offset += ADMIN_SCAN_PAGE) {
    const page = await store.listUsers({ limit: ADMIN_SCAN_PAGE, offset });
    if (page.some((u) => u.role === 'admin')) return true;
    if (page.length < ADMIN_SCAN_PAGE) return false;
  }
}

/** Burns every setup link: called once an admin exists, whoever or whatever made it. */
export async function burnSetupLinks(store: Store): Promise<void> {
  await store.deleteTokens('setup');
}

/**
 * Looks at a setup link without using it up, so the sign-up page can say a dead link is dead before
 * anyone fills in the form. A live link met after an admin exists (it should have been burnt) is
 * burnt now, with every other one.
 */
export async function setupLinkStatus(store: Store, setup: string, now: Date): Promise<SetupLinkStatus> {
  return statusOf(store, await store.findToken(sha256Hex(setup), 'setup', now));
}

/**
 * Uses up a setup link for the admin account about to be created. Refused (and every link burnt)
 * once an admin exists: the first admin closes setup, so a second leaked link makes nobody admin.
 */
export async function consumeSetupLink(store: Store, setup: string, now: Date): Promise<SetupLinkStatus> {
  return statusOf(store, await store.consumeToken(sha256Hex(setup), 'setup', now));
}

/** What a setup link found (or used up) in the store is worth. The admin scan only runs for a live
 *  link, so a made-up ?setup= costs one indexed lookup; a live one met after an admin exists is burnt
 *  with every other. */
async function statusOf(store: Store, live: OneTimeToken | null): Promise<SetupLinkStatus> {
  if (!live) return (await store.countUsers()) > 0 ? 'admin-exists' : 'invalid';
  if (!(await adminExists(store))) return 'valid';
  await burnSetupLinks(store);
  return 'admin-exists';
}

/** The page shown for a link that no longer works; the wording tells the operator what to do next. */
export const SETUP_LINK_GONE: Record<Exclude<SetupLinkStatus, 'valid'>, string> = {
  'admin-exists': 'This setup link has already been used or has expired. An admin account exists — sign in instead.',
  invalid: 'This setup link is no longer valid. Run `gatehouse auth enable` to print a fresh one.',
};

/**
 * The origin printed in a setup link by `gatehouse auth enable`, which serves nothing itself: the
 * public URL when one is configured, else where `gatehouse serve` would listen with the same
 * settings. A wildcard bind address is not something a browser can open, so loopback stands in.
 */
export function setupOrigin(settings: { publicUrl?: string; host?: string; port?: string }): string {
  if (settings.publicUrl) {
    const url = URL.canParse(settings.publicUrl) ? new URL(settings.publicUrl) : null;
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
      throw new Error(`public URL "${settings.publicUrl}" must be an http:// or https:// URL`);
    return url.origin;
  }
  const port = settings.port || '4180'; // an empty variable counts as unset
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    throw new Error(`port "${port}" must be a number from 1 to 65535 to print the setup link (or set --public-url)`);
  const host = !settings.host || settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
