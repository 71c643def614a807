// Sign-outs this process made recently: the session cache's guard against a store lookup that started
// before a revocation and, finishing after it, would put the revoked session back in the cache.

export type RevocationLog = ReturnType<typeof createRevocationLog>;

/**
 * Revocations this process made recently, by a sequence number. A store lookup that started before a
 * revocation must not put the revoked session back in the cache when it finishes after it.
 */
export function createRevocationLog() {
  let seq = 0;
  const sessions = new Map<string, number>();
  const users = new Map<string, { seq: number; except: string | undefined }>();
  let allSeq = -1;
  let inFlight = 0;
  const note = () => {
    // Forget old marks once no lookup that could have raced with them is still running.
    if (inFlight === 0 || sessions.size + users.size > 10_000) {
      sessions.clear();
      users.clear();
    }
    return ++seq;
  };
  return {
    session: (sessionId: string) => void sessions.set(sessionId, note()),
    user: (userId: string, except: string | undefined) => void users.set(userId, { seq: note(), except }),
    all: () => void (allSeq = note()),
    /** Marks a store lookup as running; ask it afterwards whether what it found was revoked meanwhile. */
    lookupStarted() {
      const startSeq = seq;
      inFlight++;
      return {
        finished: () => void inFlight--,
        revoked(sessionId: string, userId: string): boolean {
          if (allSeq > startSeq) return true;
          if ((sessions.get(sessionId) ?? -1) > startSeq) return true;
          const u = users.get(userId);
          return u !== undefined && u.seq > startSeq && u.except !== sessionId;
        },
      };
    },
  };
}
