// The contract's device authorizations: the OAuth device grant (RFC 8628; architecture.md#devices).

/**
 * A device authorization (RFC 8628). Keyed on the SHA-256 of the device code; the user code
 * is kept only as its hash too. `resource` is an MCP resource URL or, for a token for the whole app,
 * the public origin. `intervalSec` grows by 5 on every poll that came too early (slow_down).
 */
export interface DeviceAuthorization {
  deviceHash: string;
  userHash: string;
  clientId: string;
  scopes: string; // space-separated
  resource: string;
  createdAt: Date;
  expiresAt: Date;
  intervalSec: number;
  lastPollAt: Date | null;
  status: 'pending' | 'approved' | 'denied';
  userId: string | null; // who approved or denied
}

// createDeviceAuthorization: DUPLICATE when either hash exists.
export interface DeviceAuthorizationStore {
  createDeviceAuthorization(d: DeviceAuthorization): Promise<void>;
  /** The pending, unexpired authorization of a user code (what /auth/device shows). */
  findPendingDeviceAuthorization(userHash: string, now: Date): Promise<DeviceAuthorization | null>;
  /** Approves or denies a pending, unexpired authorization: true for exactly one of N concurrent callers. */
  decideDeviceAuthorization(
    userHash: string,
    status: 'approved' | 'denied',
    userId: string,
    now: Date,
  ): Promise<boolean>;
  /**
   * Records a poll of the device code (expired ones included, so the caller can say expired_token).
   * `tooFast` when it came before lastPollAt + interval — then the interval has grown by 5 s; of two
   * concurrent polls at most one is on time. Null when unknown.
   */
  pollDeviceAuthorization(
    deviceHash: string,
    now: Date,
  ): Promise<{ auth: DeviceAuthorization; tooFast: boolean } | null>;
  /** Deletes and returns an approved or denied authorization: one winner, so a decision buys tokens once. */
  takeDecidedDeviceAuthorization(deviceHash: string): Promise<DeviceAuthorization | null>;
  deleteExpiredDeviceAuthorizations(now: Date): Promise<number>;
}
