// Open tunnels (WebSockets) and the credential each was opened with. A tunnel must not outlive its
// session: every `recheckMs` each credential is asked again (through the session cache, which itself
// goes back to the store every 2 s), so a sign-out, password change, disabled user or revoked key on
// any replica closes the tunnel within a few seconds. While the store cannot answer, tunnels stay open
// (an outage must not sever every live connection) and are checked again on the next round.
export interface TunnelWatch {
  /** Registers an open tunnel; returns what to call when it has ended. */
  add(close: () => void, stillValid: (() => Promise<boolean>) | null): () => void;
  readonly size: number;
  closeAll(): void;
}

interface Tunnel {
  close: () => void;
  stillValid: (() => Promise<boolean>) | null;
}

export function createTunnelWatch(recheckMs: number): TunnelWatch {
  const open = new Set<Tunnel>();
  let timer: NodeJS.Timeout | null = null;

  const recheck = () => {
    // Stopped here, not when the last one ends: answers to OAuth tokens are watched too, and a busy API
    // would otherwise start and stop this timer on nearly every request.
    if (open.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
      return;
    }
    for (const t of open) {
      t.stillValid?.().then(
        (ok) => ok || t.close(),
        () => {},
      );
    }
  };

  return {
    add(close, stillValid) {
      const t: Tunnel = { close, stillValid };
      open.add(t);
      if (!timer) timer = setInterval(recheck, recheckMs).unref();
      return () => void open.delete(t);
    },
    get size() {
      return open.size;
    },
    closeAll() {
      for (const t of [...open]) t.close();
    },
  };
}
