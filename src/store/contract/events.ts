// The contract's recent security events: the audit log's store-backed copy, for the console.

/** One audit line kept in the store (never a password, token or cookie: the audit helper's fields only). */
export interface SecurityEvent {
  id: string;
  at: Date;
  event: string;
  userId: string | null;
  email: string | null;
  ip: string | null;
  detail: string | null;
}

export interface EventFilter {
  limit: number;
  offset: number;
  user?: { id: string | null; email: string };
  event?: string;
}

// Bounded by pruneEvents.
export interface EventStore {
  recordEvent(event: SecurityEvent): Promise<void>;
  /** Newest first. `user` keeps events naming that user's id or email; `event` one event name. */
  listEvents(filter: EventFilter): Promise<SecurityEvent[]>;
  /** Deletes events older than `before`, and all but the newest `keep`; returns how many went. */
  pruneEvents(before: Date, keep: number): Promise<number>;
}
