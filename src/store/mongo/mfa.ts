// The second factor on MongoDB: the authenticator app and recovery codes.
import { randomUUID } from 'node:crypto';
import type { Document } from 'mongodb';
import type { MfaStore, TotpFactor } from '../types.js';
import { wrap, type Collections, type TotpDoc } from './common.js';

const toTotp = (d: TotpDoc): TotpFactor => ({
  userId: d._id,
  secret: d.secret,
  confirmed: d.confirmed,
  lastStep: d.lastStep,
  createdAt: d.createdAt,
});

/**
 * Enrolment written whole without a multi-document transaction (a standalone server has none): the
 * factor document is the commit point. The new codes go in first, marked with a batch no reader counts;
 * one conditional update turns the factor on and names that batch, and from then on those codes count;
 * the codes of other batches and the unmarked old ones go last. A crash before the update leaves no
 * factor (and uncounted codes); after it, the factor with all its codes (and, until a regenerate, the
 * old unmarked ones too, which were the user's already).
 */
function enrolmentOps({ totp, recovery }: Collections): Pick<MfaStore, 'enableTotp'> & {
  counted(userId: string): Promise<Document>;
} {
  return {
    async counted(userId) {
      const batch = (await totp.findOne({ _id: userId }, { projection: { codes: 1 } }))?.codes;
      const unmarked = { batch: { $exists: false } };
      return batch ? { userId, $or: [unmarked, { batch }] } : { userId, ...unmarked };
    },
    enableTotp: (userId, step, hashes, now) =>
      wrap(async () => {
        const batch = randomUUID();
        if (hashes.length) await recovery.insertMany(hashes.map((hash) => ({ userId, hash, createdAt: now, batch })));
        const turnOn = { $set: { confirmed: true, lastStep: step, codes: batch } };
        const won = (await totp.updateOne({ _id: userId, confirmed: false }, turnOn)).modifiedCount === 1;
        await recovery.deleteMany(won ? { userId, batch: { $ne: batch } } : { userId, batch });
        return won;
      }),
  };
}

export function mfaOps(c: Collections): MfaStore {
  const { totp, recovery } = c;
  const { counted, enableTotp } = enrolmentOps(c);
  return {
    enableTotp,
    saveTotp: ({ userId, ...rest }) =>
      wrap(async () => {
        // _id is the user: the insert fails (DUPLICATE) while a confirmed factor exists.
        await totp.deleteOne({ _id: userId, confirmed: false });
        await totp.insertOne({ _id: userId, ...rest });
      }),
    findTotp: (userId) => wrap(async () => ((d) => (d ? toTotp(d) : null))(await totp.findOne({ _id: userId }))),
    confirmTotp: (userId, step) =>
      wrap(async () => {
        const turnOn = { $set: { confirmed: true, lastStep: step } };
        return (await totp.updateOne({ _id: userId, confirmed: false }, turnOn)).modifiedCount === 1;
      }),
    // One conditional update: it matches for exactly one of the callers presenting the same step.
    useTotpStep: (userId, step) =>
      wrap(async () => {
        const later = { _id: userId, confirmed: true, $or: [{ lastStep: null }, { lastStep: { $lt: step } }] };
        return (await totp.updateOne(later, { $set: { lastStep: step } })).modifiedCount === 1;
      }),
    deleteTotp: (userId) => wrap(async () => (await totp.deleteOne({ _id: userId })).deletedCount === 1),
    replaceRecoveryCodes: (userId, hashes, now) =>
      wrap(async () => {
        await recovery.deleteMany({ userId });
        if (hashes.length) await recovery.insertMany(hashes.map((hash) => ({ userId, hash, createdAt: now })));
      }),
    consumeRecoveryCode: (userId, hash) =>
      wrap(async () => (await recovery.deleteOne({ ...(await counted(userId)), hash })).deletedCount === 1),
    countRecoveryCodes: (userId) => wrap(async () => recovery.countDocuments(await counted(userId))),
    listRecoveryCodes: (userId) =>
      wrap(async () =>
        (
          await recovery
            .find(await counted(userId))
            .sort({ hash: 1 })
            .toArray()
        ).map((d) => d.hash),
      ),
    deleteRecoveryCodes: (userId) => wrap(async () => (await recovery.deleteMany({ userId })).deletedCount),
  };
}
