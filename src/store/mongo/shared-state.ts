// Rate-limit counters, assertion signing keys and replica heartbeats on MongoDB: what every replica on
// one store shares.
import { counterKey } from '../rules.js';
import type { CounterStore, SigningKeyStore } from '../types.js';
import { wrap, type Collections } from './common.js';

// Signing keys and replica heartbeats (architecture.md#access): the unique _id (the generation) is the referee.
export function signingKeyOps({ signingKeys: keys, replicas }: Collections): SigningKeyStore {
  return {
    addSigningKey: ({ generation, ...rest }) =>
      wrap(async () => void (await keys.insertOne({ _id: generation, ...rest }))),
    listSigningKeys: () =>
      wrap(async () => {
        const docs = await keys.find().sort({ _id: 1 }).toArray();
        return docs.map(({ _id, ...k }) => ({ generation: _id, ...k }));
      }),
    deleteSigningKey: (generation) => wrap(async () => (await keys.deleteOne({ _id: generation })).deletedCount === 1),
    recordReplica: ({ id, publicUrl, seenAt }) =>
      wrap(async () => {
        const beat = { publicUrl: publicUrl.slice(0, 2048), seenAt };
        await replicas.updateOne({ _id: id }, { $set: beat }, { upsert: true });
      }),
    listReplicas: (since) =>
      wrap(async () => {
        const docs = await replicas
          .find({ seenAt: { $gte: since } })
          .sort({ _id: 1 })
          .toArray();
        return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
      }),
    deleteReplicasSeenBefore: (before) =>
      wrap(async () => (await replicas.deleteMany({ seenAt: { $lt: before } })).deletedCount),
  };
}

// One findOneAndUpdate with an update pipeline: the window's rollover and the count move together.
export function counterOps({ counters }: Collections): CounterStore {
  return {
    hit: (key, windowMs, now) =>
      wrap(async () => {
        const fresh = { $or: [{ $eq: [{ $type: '$resetAt' }, 'missing'] }, { $lte: ['$resetAt', now] }] };
        const update = [
          {
            $set: {
              count: { $cond: [fresh, 1, { $add: ['$count', 1] }] },
              resetAt: { $cond: [fresh, new Date(now.getTime() + windowMs), '$resetAt'] },
            },
          },
        ];
        const options = { upsert: true, returnDocument: 'after' as const };
        const run = () => counters.findOneAndUpdate({ _id: counterKey(key) }, update, options);
        // Two first hits may both try to insert; the loser retries as an update.
        const d = await run().catch((err: { code?: number }) => (err.code === 11000 ? run() : Promise.reject(err)));
        return { count: d!.count, resetAt: d!.resetAt };
      }),
    peekCounter: (key, now) =>
      wrap(async () => {
        const d = await counters.findOne({ _id: counterKey(key), resetAt: { $gt: now } });
        return d ? { count: d.count, resetAt: d.resetAt } : null;
      }),
    clearCounter: (key) => wrap(async () => void (await counters.deleteOne({ _id: counterKey(key) }))),
  };
}
