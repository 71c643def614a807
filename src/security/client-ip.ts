import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface TrustedProxies {
  /** The client's address: the socket peer, or the nearest untrusted hop of X-Forwarded-For when the peer is
   *  trusted. */
  clientIp(peer: string | undefined, forwardedFor: string | string[] | undefined): string;
  isTrusted(ip: string): boolean;
  readonly any: boolean;
}

/** Parses "127.0.0.1/32,10.0.0.0/8,::1" into a matcher; throws with a clear message on a bad entry. */
export function parseTrustedProxies(list: string[]): TrustedProxies {
  const blocks = new BlockList();
  for (const raw of list) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addr, bits] = entry.split('/');
    const family = isIPv4(addr ?? '') ? 'ipv4' : isIPv6(addr ?? '') ? 'ipv6' : null;
    if (!family || !addr) throw new Error(`trusted proxy "${entry}" is not an IP address or CIDR range`);
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max)
      throw new Error(`trusted proxy "${entry}" has a bad prefix length`);
    blocks.addSubnet(addr, prefix, family);
  }
  const any = list.some((e) => e.trim() !== '');
  const isTrusted = (ip: string): boolean => {
    const plain = unmap(ip);
    if (isIPv4(plain)) return blocks.check(plain, 'ipv4');
    if (isIPv6(plain)) return blocks.check(plain, 'ipv6');
    return false;
  };
  return {
    any,
    isTrusted,
    clientIp(peer, forwardedFor) {
      const socketIp = unmap(peer ?? '');
      if (!any || !forwardedFor || !isTrusted(socketIp)) return socketIp;
      const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean);
      // Walk from the nearest hop outwards; the first address we do not trust is the client.
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = unmap(hops[i]!);
        if (!isIPv4(hop) && !isIPv6(hop)) return socketIp; // garbage: fall back to what we saw
        if (!isTrusted(hop)) return hop;
      }
      return hops.length ? unmap(hops[0]!) : socketIp;
    },
  };
}

/** "::ffff:127.0.0.1" → "127.0.0.1" */
export function unmap(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export function isLoopback(ip: string | undefined): boolean {
  const plain = unmap(ip ?? '');
  return plain === '::1' || (isIPv4(plain) && plain.startsWith('127.'));
}
