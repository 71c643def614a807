// Device authorizations (RFC 8628) on the SQL backends. Every change that must have one winner is one
// conditional statement.
import { toDeviceAuthorization } from '../sql-common.js';
import type { DeviceAuthorizationStore } from '../types.js';
import { first, one, type SqlBackend } from './backend.js';

const COLUMNS =
  'device_hash, user_hash, client_id, scopes, resource, created_at, expires_at, interval_s, ' +
  'last_poll_at, status, user_id';

export function deviceOps({ prefix: p, driver: d, returning }: SqlBackend): DeviceAuthorizationStore {
  const T = `${p}device_authorizations`;
  const byDevice = (hash: string) =>
    one(d.rows(`SELECT * FROM ${T} WHERE device_hash = ?`, [hash]), toDeviceAuthorization);
  return {
    async createDeviceAuthorization(a) {
      await d.affected(`INSERT INTO ${T} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        a.deviceHash,
        a.userHash,
        a.clientId,
        a.scopes,
        a.resource,
        a.createdAt.getTime(),
        a.expiresAt.getTime(),
        a.intervalSec,
        a.lastPollAt?.getTime() ?? null,
        a.status,
        a.userId,
      ]);
    },
    findPendingDeviceAuthorization: (userHash, now) =>
      one(
        d.rows(`SELECT * FROM ${T} WHERE user_hash = ? AND status = ? AND expires_at > ?`, [
          userHash,
          'pending',
          now.getTime(),
        ]),
        toDeviceAuthorization,
      ),
    decideDeviceAuthorization: async (userHash, status, userId, now) =>
      (await d.affected(
        `UPDATE ${T} SET status = ?, user_id = ? WHERE user_hash = ? AND status = ? AND expires_at > ?`,
        [status, userId, userHash, 'pending', now.getTime()],
      )) === 1,
    async pollDeviceAuthorization(hash, now) {
      const t = now.getTime();
      // On time when the last poll is at least one interval ago; else the interval grows (RFC 8628 §3.5).
      const due = '(last_poll_at IS NULL OR last_poll_at + interval_s * 1000 <= ?)';
      const onTime =
        (await d.affected(`UPDATE ${T} SET last_poll_at = ? WHERE device_hash = ? AND ${due}`, [t, hash, t])) === 1;
      if (!onTime) {
        const slower = 'interval_s = interval_s + 5, last_poll_at = ?';
        await d.affected(`UPDATE ${T} SET ${slower} WHERE device_hash = ?`, [t, hash]);
      }
      const auth = await byDevice(hash);
      return auth ? { auth, tooFast: !onTime } : null;
    },
    async takeDecidedDeviceAuthorization(hash) {
      const where = `FROM ${T} WHERE device_hash = ? AND status <> ?`;
      if (returning) return one(d.rows(`DELETE ${where} RETURNING *`, [hash, 'pending']), toDeviceAuthorization);
      const r = await first(d.rows(`SELECT * ${where}`, [hash, 'pending']));
      return r && (await d.affected(`DELETE ${where}`, [hash, 'pending'])) === 1 ? toDeviceAuthorization(r) : null;
    },
    deleteExpiredDeviceAuthorizations: (now) => d.affected(`DELETE FROM ${T} WHERE expires_at <= ?`, [now.getTime()]),
  };
}
