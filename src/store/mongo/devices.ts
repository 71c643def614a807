// Device authorizations (RFC 8628) on MongoDB: conditional updates and findOneAndDelete are the referees.
import type { DeviceAuthorization, DeviceAuthorizationStore } from '../types.js';
import { wrap, type Collections, type DeviceDoc } from './common.js';

const toDevice = ({ _id, ...rest }: DeviceDoc): DeviceAuthorization => ({ deviceHash: _id, ...rest });

export function deviceOps({ devices }: Collections): DeviceAuthorizationStore {
  return {
    createDeviceAuthorization: ({ deviceHash, ...rest }) =>
      wrap(async () => void (await devices.insertOne({ _id: deviceHash, ...rest }))),
    findPendingDeviceAuthorization: (userHash, now) =>
      wrap(async () => {
        const d = await devices.findOne({ userHash, status: 'pending', expiresAt: { $gt: now } });
        return d ? toDevice(d) : null;
      }),
    decideDeviceAuthorization: (userHash, status, userId, now) =>
      wrap(async () => {
        const pending = { userHash, status: 'pending' as const, expiresAt: { $gt: now } };
        return (await devices.updateOne(pending, { $set: { status, userId } })).modifiedCount === 1;
      }),
    pollDeviceAuthorization: (hash, now) =>
      wrap(async () => {
        const seen = await devices.findOne({ _id: hash });
        if (!seen) return null;
        const due = seen.lastPollAt === null || seen.lastPollAt.getTime() + seen.intervalSec * 1000 <= now.getTime();
        // Compare-and-set on the poll time read: of two concurrent polls only one moves it as "on time".
        const onTime =
          due &&
          (await devices.updateOne({ _id: hash, lastPollAt: seen.lastPollAt }, { $set: { lastPollAt: now } }))
            .modifiedCount === 1;
        if (!onTime) await devices.updateOne({ _id: hash }, { $inc: { intervalSec: 5 }, $set: { lastPollAt: now } });
        const d = await devices.findOne({ _id: hash });
        return d ? { auth: toDevice(d), tooFast: !onTime } : null;
      }),
    takeDecidedDeviceAuthorization: (hash) =>
      wrap(async () => {
        const d = await devices.findOneAndDelete({ _id: hash, status: { $ne: 'pending' } });
        return d ? toDevice(d) : null;
      }),
    deleteExpiredDeviceAuthorizations: (now) =>
      wrap(async () => (await devices.deleteMany({ expiresAt: { $lte: now } })).deletedCount),
  };
}
