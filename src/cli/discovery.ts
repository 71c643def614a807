// `auth providers add` asks the issuer for its OpenID discovery document before storing anything: a
// mistyped issuer otherwise surfaces only when the first person clicks the sign-in button.
// The request mirrors what sign-in will do (openid-client's discovery): the same URL, no redirects
// followed, and the same issuer comparison, so what passes here passes there.

export const DISCOVERY_TIMEOUT_MS = 5_000;

export interface DiscoveryVerdict {
  ok: boolean;
  /** One line in the fitness-check style: "✓ discovery: …" or "✗ discovery: … (hint)". */
  line: string;
}

/** `<issuer>/.well-known/openid-configuration`, keeping any path the issuer has (Microsoft's does). */
export function discoveryUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `${url.pathname}/.well-known/openid-configuration`.replace(/\/{2,}/g, '/');
  return url.href;
}

export async function checkDiscovery(issuer: string, timeoutMs = DISCOVERY_TIMEOUT_MS): Promise<DiscoveryVerdict> {
  const url = discoveryUrl(issuer);
  const fail = (what: string, hint: string): DiscoveryVerdict => ({
    ok: false,
    line: `✗ discovery: ${url} ${what} (${hint})`,
  });
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const late = (err as Error).name === 'TimeoutError' ? ` within ${timeoutMs / 1000} s` : '';
    return fail(`did not answer${late}`, 'is the issuer URL right? is it reachable from this machine?');
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return fail(
      `answered HTTP ${res.status}`,
      'is the issuer URL right? give the issuer itself, without /.well-known/…',
    );
  }
  const named = await issuerNamedIn(res);
  if (named === null) return fail('is not an OpenID discovery document', 'is the issuer URL right?');
  // The comparison openid-client makes at sign-in: both sides normalised by the URL parser.
  if (!sameIssuer(named, issuer))
    return fail(
      `names issuer "${named}"`,
      `--issuer must be exactly the issuer the provider names; is "${named}" the one you mean?`,
    );
  return { ok: true, line: `✓ discovery: ${url} answered for ${named}` };
}

async function issuerNamedIn(res: Response): Promise<string | null> {
  try {
    const body: unknown = await res.json();
    const issuer = (body as { issuer?: unknown } | null)?.issuer;
    return typeof issuer === 'string' ? issuer : null;
  } catch {
    return null;
  }
}

function sameIssuer(named: string, expected: string): boolean {
  try {
    return new URL(named).href === new URL(expected).href;
  } catch {
    return false;
  }
}
