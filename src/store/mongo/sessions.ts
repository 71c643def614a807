// Sessions and single-use tokens on MongoDB: a token is used up by findOneAndDelete (one winner).
import { optional } from '../rules.js';
import type { OneTimeToken, Session, SessionStore, TokenKind, TokenStore } from '../types.js';
import { withId, wrap, type Collections, type SessionDoc, type TokenDoc } from './common.js';

// Stored without `amr` when none was given (and by versions before it existed), and documents from
// before schema version 5 lack pairedFrom and note: each reads back as none.
const toSession = ({ _id, amr, pairedFrom, ...rest }: SessionDoc): Session => ({
  id: _id,
  ...rest,
  ...(amr?.length ? { amr } : {}),
  ...optional('pairedFrom', pairedFrom ?? null),
});
const toToken = (d: TokenDoc): OneTimeToken => ({
  hash: d._id,
  kind: d.kind,
  userId: d.userId,
  email: d.email,
  createdAt: d.createdAt,
  expiresAt: d.expiresAt,
  ...optional('note', d.note ?? null),
});

export function sessionOps({ sessions }: Collections): SessionStore {
  return {
    createSession: ({ amr, ...s }) =>
      wrap(async () => {
        const doc = withId({ ...s, ...(amr?.length ? { amr } : {}), pairedFrom: s.pairedFrom?.slice(0, 200) ?? null });
        await sessions.insertOne(doc);
      }),
    findSession: (id) => wrap(async () => ((d) => (d ? toSession(d) : null))(await sessions.findOne({ _id: id }))),
    touchSession: (id, at) =>
      wrap(
        async () => void (await sessions.updateOne({ _id: id, lastSeenAt: { $lt: at } }, { $set: { lastSeenAt: at } })),
      ),
    deleteSession: (id) => wrap(async () => (await sessions.deleteOne({ _id: id })).deletedCount === 1),
    deleteUserSessions: (userId, exceptId) =>
      wrap(async () => (await sessions.deleteMany({ userId, _id: { $ne: exceptId ?? '' } })).deletedCount),
    deleteAllSessions: () => wrap(async () => (await sessions.deleteMany({})).deletedCount),
    listUserSessions: (userId) =>
      wrap(async () => (await sessions.find({ userId }).sort({ createdAt: -1, _id: 1 }).toArray()).map(toSession)),
    deleteExpiredSessions: (now, idleMs) =>
      wrap(async () => {
        const idle = new Date(now.getTime() - idleMs);
        return (await sessions.deleteMany({ $or: [{ expiresAt: { $lte: now } }, { lastSeenAt: { $lte: idle } }] }))
          .deletedCount;
      }),
  };
}

export function tokenOps({ tokens }: Collections): TokenStore {
  return {
    createToken: (t) =>
      wrap(async () => {
        const doc = {
          _id: t.hash,
          kind: t.kind,
          userId: t.userId,
          email: t.email,
          createdAt: t.createdAt,
          expiresAt: t.expiresAt,
          note: t.note?.slice(0, 200) ?? null,
        };
        await tokens.insertOne(doc);
      }),
    consumeToken: (hash, kind, now) =>
      wrap(async () => {
        const d = await tokens.findOneAndDelete({ _id: hash, kind });
        return !d || d.expiresAt.getTime() <= now.getTime() ? null : toToken(d);
      }),
    findToken: (hash, kind, now) =>
      wrap(async () =>
        ((d) => (d ? toToken(d) : null))(await tokens.findOne({ _id: hash, kind, expiresAt: { $gt: now } })),
      ),
    deleteTokens: (kind: TokenKind, userId) =>
      wrap(async () => (await tokens.deleteMany(userId === undefined ? { kind } : { kind, userId })).deletedCount),
    listTokens: (kind, now) =>
      wrap(async () =>
        (
          await tokens
            .find({ kind, expiresAt: { $gt: now } })
            .sort({ createdAt: 1, _id: 1 })
            .toArray()
        ).map(toToken),
      ),
  };
}
