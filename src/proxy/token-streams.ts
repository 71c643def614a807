// Answers given to OAuth access tokens (architecture.md#oauth), watched like tunnels (tunnels.ts): a token revoked
// on any replica — or its user disabled, or its client removed — ends an open stream (SSE) within a
// recheck. Nearly every answer ends in milliseconds, so watching one must cost next to nothing on the
// hot path: one Map entry and one shared listener, no closures per request. The work is done at the
// recheck, once per token however many answers it has open.
import type { ServerResponse } from 'node:http';

export interface TokenStreams {
  /** Watches an answer given to `token` until it closes. */
  add(res: ServerResponse, token: string): void;
  readonly size: number;
  closeAll(): void;
}

export function createTokenStreams(recheckMs: number, stillValid: (token: string) => Promise<boolean>): TokenStreams {
  const open = new Map<ServerResponse, string>();
  let timer: NodeJS.Timeout | null = null;

  function forget(this: ServerResponse): void {
    open.delete(this);
  }

  const recheck = () => {
    // Stopped here rather than when the last answer closes: a busy API would otherwise start and stop
    // the timer on nearly every request.
    if (open.size === 0) {
      clearInterval(timer!);
      timer = null;
      return;
    }
    const byToken = new Map<string, ServerResponse[]>();
    for (const [res, token] of open) {
      const answers = byToken.get(token);
      if (answers) answers.push(res);
      else byToken.set(token, [res]);
    }
    for (const [token, answers] of byToken) {
      // While the store cannot answer, streams stay open and are asked again next round (as tunnels are).
      stillValid(token).then(
        (ok) => ok || answers.forEach((res) => res.destroy()),
        () => {},
      );
    }
  };

  return {
    add(res, token) {
      open.set(res, token);
      res.on('close', forget);
      if (!timer) timer = setInterval(recheck, recheckMs).unref();
    },
    get size() {
      return open.size;
    },
    closeAll() {
      for (const res of [...open.keys()]) res.destroy();
    },
  };
}
