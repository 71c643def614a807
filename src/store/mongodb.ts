// MongoDB backend (official driver). Collections are prefixed; uniqueness comes from unique indexes,
// single-use tokens from findOneAndDelete (one winner), counters from one findOneAndUpdate with an
// update pipeline (window rollover included). MongoDB has no foreign keys, so deleteUser cascades by hand.
import { MongoClient, type Db, type Document } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { StoreError, type ApiKey, type Identity, type Session, type Store, type StoreOptions, type TokenKind, type User, type UserPatch } from './types.js';

const SCHEMA_VERSION = 1;
const UNAVAILABLE = new Set([
  'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoTopologyClosedError',
  'MongoPoolClearedError', 'MongoNotConnectedError', 'MongoServerClosedError',
]);

function mapError(err: unknown): never {
  if (err instanceof StoreError) throw err;
  const e = err as { code?: number; name?: string; message?: string };
  if (e.code === 11000) throw new StoreError('DUPLICATE', 'record already exists', { cause: err });
  if (UNAVAILABLE.has(e.name ?? '') || /ECONNREFUSED|ECONNRESET|connection .* closed|timed out/i.test(e.message ?? '')) {
    throw new StoreError('UNAVAILABLE', `MongoDB is unavailable: ${e.message}`, { cause: err });
  }
  throw err;
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    mapError(err);
  }
}

type UserDoc = Omit<User, 'id'> & { _id: string };
type SessionDoc = Omit<Session, 'id'> & { _id: string };
type TokenDoc = { _id: string; kind: TokenKind; userId: string | null; email: string | null; createdAt: Date; expiresAt: Date };
type KeyDoc = Omit<ApiKey, 'id'> & { _id: string };

const toUser = ({ _id, ...rest }: UserDoc): User => ({ id: _id, ...rest });
const toSession = ({ _id, ...rest }: SessionDoc): Session => ({ id: _id, ...rest });
const toKey = ({ _id, ...rest }: KeyDoc): ApiKey => ({ id: _id, ...rest });
const toIdentity = (d: Document): Identity => ({
  issuer: d.issuer, subject: d.subject, provider: d.provider, userId: d.userId, email: d.email ?? null, createdAt: d.createdAt,
});

export function createMongoStore(url: string, options: StoreOptions = {}): Store {
  const p = options.prefix ?? 'gatehouse_';
  if (!/^[a-z0-9_]{0,32}$/i.test(p)) throw new StoreError('INVALID', `invalid collection prefix "${p}"`);
  const client = new MongoClient(url, {
    maxPoolSize: options.poolSize ?? 10,
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 5000,
    socketTimeoutMS: 15_000,
  });
  const db: Db = client.db(); // the database named in the URL ("test" when none)
  const users = db.collection<UserDoc>(`${p}users`);
  const identities = db.collection(`${p}identities`);
  const sessions = db.collection<SessionDoc>(`${p}sessions`);
  const tokens = db.collection<TokenDoc>(`${p}tokens`);
  const keys = db.collection<KeyDoc>(`${p}api_keys`);
  const counters = db.collection<{ _id: string; count: number; resetAt: Date }>(`${p}counters`);
  const schema = db.collection<{ _id: string; version: number }>(`${p}schema`);

  const store: Store = {
    kind: 'mongodb',
    migrate: () =>
      wrap(async () => {
        const current = (await schema.findOne({ _id: 'schema' }))?.version ?? 0;
        if (current > SCHEMA_VERSION) throw new StoreError('MIGRATION', `schema version ${current} is newer than this Gatehouse (${SCHEMA_VERSION})`);
        // createIndexes is idempotent, so two replicas migrating together both succeed.
        await users.createIndexes([{ key: { email: 1 }, unique: true }, { key: { createdAt: 1, _id: 1 } }]);
        await identities.createIndexes([{ key: { issuer: 1, subject: 1 }, unique: true }, { key: { userId: 1 } }]);
        await sessions.createIndexes([{ key: { userId: 1 } }, { key: { expiresAt: 1 } }]);
        await tokens.createIndexes([{ key: { userId: 1 } }]);
        await keys.createIndexes([{ key: { hash: 1 }, unique: true }, { key: { userId: 1 } }]);
        await schema.updateOne({ _id: 'schema' }, { $max: { version: SCHEMA_VERSION } }, { upsert: true }).catch((err: { code?: number }) => {
          if (err.code !== 11000) throw err; // a concurrent upsert of the same document won
        });
      }),
    ping: () => wrap(async () => void (await db.command({ ping: 1 }))),
    close: () => client.close(),

    createUser: (input, now) =>
      wrap(async () => {
        const doc: UserDoc = { _id: randomUUID(), ...input, disabled: false, createdAt: now, updatedAt: now };
        await users.insertOne(doc);
        return toUser(doc);
      }),
    findUserById: (id) => wrap(async () => ((d) => (d ? toUser(d) : null))(await users.findOne({ _id: id }))),
    findUserByEmail: (email) => wrap(async () => ((d) => (d ? toUser(d) : null))(await users.findOne({ email }))),
    updateUser: (id, patch: UserPatch, now) =>
      wrap(async () => {
        const set: Document = { updatedAt: now };
        for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[k] = v;
        const d = await users.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
        return d ? toUser(d) : null;
      }),
    deleteUser: (id) =>
      wrap(async () => {
        await Promise.all([sessions.deleteMany({ userId: id }), identities.deleteMany({ userId: id }), keys.deleteMany({ userId: id }), tokens.deleteMany({ userId: id })]);
        return (await users.deleteOne({ _id: id })).deletedCount === 1;
      }),
    listUsers: ({ limit, offset }) => wrap(async () => (await users.find().sort({ createdAt: 1, _id: 1 }).skip(offset).limit(limit).toArray()).map(toUser)),
    countUsers: () => wrap(() => users.countDocuments()),
    importUser: (u) => wrap(async () => void (await users.insertOne((({ id, ...rest }) => ({ _id: id, ...rest }))(u)))),

    linkIdentity: (i) => wrap(async () => void (await identities.insertOne({ ...i }))),
    findIdentity: (issuer, subject) =>
      wrap(async () => {
        const d = await identities.findOne({ issuer, subject });
        return d ? toIdentity(d) : null;
      }),
    listIdentities: (userId) =>
      wrap(async () => (await identities.find({ userId }).sort({ createdAt: 1, issuer: 1, subject: 1 }).toArray()).map(toIdentity)),

    createSession: (s) => wrap(async () => void (await sessions.insertOne((({ id, ...rest }) => ({ _id: id, ...rest }))(s)))),
    findSession: (id) => wrap(async () => ((d) => (d ? toSession(d) : null))(await sessions.findOne({ _id: id }))),
    touchSession: (id, at) => wrap(async () => void (await sessions.updateOne({ _id: id, lastSeenAt: { $lt: at } }, { $set: { lastSeenAt: at } }))),
    deleteSession: (id) => wrap(async () => (await sessions.deleteOne({ _id: id })).deletedCount === 1),
    deleteUserSessions: (userId, exceptId) => wrap(async () => (await sessions.deleteMany({ userId, _id: { $ne: exceptId ?? '' } })).deletedCount),
    deleteAllSessions: () => wrap(async () => (await sessions.deleteMany({})).deletedCount),
    listUserSessions: (userId) => wrap(async () => (await sessions.find({ userId }).sort({ createdAt: -1, _id: 1 }).toArray()).map(toSession)),
    deleteExpiredSessions: (now, idleMs) =>
      wrap(async () => (await sessions.deleteMany({ $or: [{ expiresAt: { $lte: now } }, { lastSeenAt: { $lte: new Date(now.getTime() - idleMs) } }] })).deletedCount),

    createToken: (t) => wrap(async () => void (await tokens.insertOne({ _id: t.hash, kind: t.kind, userId: t.userId, email: t.email, createdAt: t.createdAt, expiresAt: t.expiresAt }))),
    consumeToken: (hash, kind, now) =>
      wrap(async () => {
        const d = await tokens.findOneAndDelete({ _id: hash, kind });
        if (!d || d.expiresAt.getTime() <= now.getTime()) return null;
        return { hash: d._id, kind: d.kind, userId: d.userId, email: d.email, createdAt: d.createdAt, expiresAt: d.expiresAt };
      }),
    findToken: (hash, kind, now) =>
      wrap(async () => {
        const d = await tokens.findOne({ _id: hash, kind, expiresAt: { $gt: now } });
        return d ? { hash: d._id, kind: d.kind, userId: d.userId, email: d.email, createdAt: d.createdAt, expiresAt: d.expiresAt } : null;
      }),
    deleteTokens: (kind, userId) => wrap(async () => (await tokens.deleteMany(userId === undefined ? { kind } : { kind, userId })).deletedCount),
    listTokens: (kind, now) =>
      wrap(async () =>
        (await tokens.find({ kind, expiresAt: { $gt: now } }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => ({
          hash: d._id, kind: d.kind, userId: d.userId, email: d.email, createdAt: d.createdAt, expiresAt: d.expiresAt,
        })),
      ),

    createApiKey: (k) => wrap(async () => void (await keys.insertOne((({ id, ...rest }) => ({ _id: id, ...rest }))(k)))),
    findApiKeyByHash: (hash) => wrap(async () => ((d) => (d ? toKey(d) : null))(await keys.findOne({ hash }))),
    listApiKeys: (userId) => wrap(async () => (await keys.find(userId ? { userId } : {}).sort({ createdAt: 1, _id: 1 }).toArray()).map(toKey)),
    revokeApiKey: (id) => wrap(async () => (await keys.updateOne({ _id: id, revoked: false }, { $set: { revoked: true } })).modifiedCount === 1),
    touchApiKey: (id, at) => wrap(async () => void (await keys.updateOne({ _id: id }, { $set: { lastUsedAt: at } }))),

    hit: (key, windowMs, now) =>
      wrap(async () => {
        const fresh = { $or: [{ $eq: [{ $type: '$resetAt' }, 'missing'] }, { $lte: ['$resetAt', now] }] };
        const update = [{ $set: { count: { $cond: [fresh, 1, { $add: ['$count', 1] }] }, resetAt: { $cond: [fresh, new Date(now.getTime() + windowMs), '$resetAt'] } } }];
        const run = () => counters.findOneAndUpdate({ _id: key }, update, { upsert: true, returnDocument: 'after' });
        // Two first hits may both try to insert; the loser retries as an update.
        const d = await run().catch((err: { code?: number }) => (err.code === 11000 ? run() : Promise.reject(err)));
        return { count: d!.count, resetAt: d!.resetAt };
      }),
    peekCounter: (key, now) =>
      wrap(async () => {
        const d = await counters.findOne({ _id: key, resetAt: { $gt: now } });
        return d ? { count: d.count, resetAt: d.resetAt } : null;
      }),
    clearCounter: (key) => wrap(async () => void (await counters.deleteOne({ _id: key }))),
  };
  return store;
}
