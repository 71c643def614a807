// Recent security events on MongoDB.
import type { Document } from 'mongodb';
import type { EventStore, SecurityEvent } from '../types.js';
import { wrap, type Collections, type EventDoc } from './common.js';

const toEvent = ({ _id, ...rest }: EventDoc): SecurityEvent => ({ id: _id, ...rest });

export function eventOps({ events }: Collections): EventStore {
  return {
    recordEvent: (e) =>
      wrap(async () => {
        await events.insertOne({
          _id: e.id,
          at: e.at,
          event: e.event.slice(0, 64),
          userId: e.userId,
          email: e.email?.slice(0, 320) ?? null,
          ip: e.ip?.slice(0, 64) ?? null,
          detail: e.detail?.slice(0, 1000) ?? null,
        });
      }),
    listEvents: ({ limit, offset, user, event }) =>
      wrap(async () => {
        const q: Document = {};
        if (user) q.$or = [{ userId: user.id ?? '' }, { email: user.email }];
        if (event) q.event = event;
        return (await events.find(q).sort({ at: -1, _id: -1 }).skip(offset).limit(limit).toArray()).map(toEvent);
      }),
    pruneEvents: (before, keep) =>
      wrap(async () => {
        const [cut] = await events.find({}).sort({ at: -1, _id: -1 }).skip(keep).limit(1).toArray();
        const bound = Math.max(before.getTime(), cut ? cut.at.getTime() + 1 : -Infinity);
        return (await events.deleteMany({ at: { $lt: new Date(bound) } })).deletedCount;
      }),
  };
}
