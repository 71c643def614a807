// Users and social identities on MongoDB. No foreign keys: deleteUser cascades by hand.
import { randomUUID } from 'node:crypto';
import type { Document } from 'mongodb';
import { normalGroups, RESERVED_USER_PREFIX } from '../rules.js';
import type { Identity, IdentityStore, User, UserStore } from '../types.js';
import { withId, wrap, type Collections, type UserDoc } from './common.js';

// v1 documents have no groups
const toUser = ({ _id, ...rest }: UserDoc): User => ({ id: _id, ...rest, groups: rest.groups ?? [] });
const toIdentity = (d: Document): Identity => ({
  issuer: d.issuer,
  subject: d.subject,
  provider: d.provider,
  userId: d.userId,
  email: d.email ?? null,
  createdAt: d.createdAt,
});

/** Gatehouse's own users are no one's account: never listed or counted (store/rules.ts). */
const NOT_RESERVED = { _id: { $not: { $regex: `^${RESERVED_USER_PREFIX}` } } };

/** The console's search: email or name contains the query, any case (regex metacharacters escaped). */
const userSearch = (query: string | undefined) => {
  const q = query?.trim().toLowerCase();
  if (!q) return NOT_RESERVED;
  const re = { $regex: q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' };
  return { ...NOT_RESERVED, $or: [{ email: re }, { name: re }] };
};

export function userOps(c: Collections): UserStore {
  const { users } = c;
  return {
    createUser: (input, now) =>
      wrap(async () => {
        const doc: UserDoc = {
          _id: randomUUID(),
          ...input,
          groups: normalGroups(input.groups ?? []),
          disabled: false,
          createdAt: now,
          updatedAt: now,
        };
        await users.insertOne(doc);
        return toUser(doc);
      }),
    findUserById: (id) => wrap(async () => ((d) => (d ? toUser(d) : null))(await users.findOne({ _id: id }))),
    findUserByEmail: (email) => wrap(async () => ((d) => (d ? toUser(d) : null))(await users.findOne({ email }))),
    updateUser: (id, patch, now) =>
      wrap(async () => {
        const set: Document = { updatedAt: now };
        for (const [k, v] of Object.entries(patch)) {
          if (v !== undefined) set[k] = k === 'groups' ? normalGroups(v as string[]) : v;
        }
        const d = await users.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
        return d ? toUser(d) : null;
      }),
    deleteUser: (id) => wrap(() => deleteUserAndRecords(c, id)),
    listUsers: ({ limit, offset, query }) =>
      wrap(async () => {
        const found = users.find(userSearch(query)).sort({ createdAt: 1, _id: 1 }).skip(offset).limit(limit);
        return (await found.toArray()).map(toUser);
      }),
    countUsers: (query) => wrap(() => users.countDocuments(userSearch(query))),
    importUser: (u) => wrap(async () => void (await users.insertOne(withId(u)))),
  };
}

async function deleteUserAndRecords(c: Collections, id: string): Promise<boolean> {
  const byUser = { userId: id };
  await Promise.all([
    c.sessions.deleteMany(byUser),
    c.identities.deleteMany(byUser),
    c.keys.deleteMany(byUser),
    c.tokens.deleteMany(byUser),
    c.passkeys.deleteMany(byUser),
    c.totp.deleteOne({ _id: id }),
    c.recovery.deleteMany(byUser),
    c.oauthConsents.deleteMany(byUser),
    c.oauthTokens.deleteMany(byUser),
    c.devices.deleteMany(byUser),
  ]);
  return (await c.users.deleteOne({ _id: id })).deletedCount === 1;
}

export function identityOps({ identities }: Collections): IdentityStore {
  return {
    linkIdentity: (i) => wrap(async () => void (await identities.insertOne({ ...i }))),
    findIdentity: (issuer, subject) =>
      wrap(async () => ((d) => (d ? toIdentity(d) : null))(await identities.findOne({ issuer, subject }))),
    listIdentities: (userId) =>
      wrap(async () =>
        (await identities.find({ userId }).sort({ createdAt: 1, issuer: 1, subject: 1 }).toArray()).map(toIdentity),
      ),
    unlinkIdentity: (userId, issuer, subject) =>
      wrap(async () => (await identities.deleteOne({ userId, issuer, subject })).deletedCount === 1),
  };
}
