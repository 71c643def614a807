// MongoDB backend (official driver). Collections are prefixed; uniqueness comes from unique indexes,
// single-use tokens from findOneAndDelete (one winner), counters from one findOneAndUpdate with an
// update pipeline (window rollover included). MongoDB has no foreign keys, so deleteUser cascades by hand.
// Prefix, pool size and counter keys follow rules.ts, and the indexes migrations/, like every backend.
import { MongoClient, type Collection, type Db, type Document, type MongoClientOptions } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { DRIVER_TIMEOUT_MS, withDeadline } from './deadline.js';
import { pendingMigrations } from './migrations/index.js';
import { checkPrefix, counterKey, normalGroups, normalScopes, optional, RESERVED_USER_PREFIX, takePoolSizeFromString } from './rules.js';
import { StoreError, type ApiKey, type DeviceAuthorization, type Identity, type OAuthClient, type OAuthConsent, type OAuthToken, type OneTimeToken, type Passkey, type ReplicaBeat, type SecurityEvent, type Session, type SigningKeyRecord, type Store, type StoreOptions, type TokenKind, type TotpFactor, type User } from './types.js';

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

/** One store call: bounded like every server backend's (store/deadline.ts), driver errors mapped. */
async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  return unbounded(() => withDeadline(fn(), 'MongoDB'));
}

/** Driver errors mapped, no deadline: migrations build indexes and may wait on another replica. */
async function unbounded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    mapError(err);
  }
}

type UserDoc = Omit<User, 'id'> & { _id: string };
type SessionDoc = Omit<Session, 'id'> & { _id: string };
type TokenDoc = Omit<OneTimeToken, 'hash'> & { _id: string };
type KeyDoc = Omit<ApiKey, 'id'> & { _id: string };
type PasskeyDoc = Omit<Passkey, 'id'> & { _id: string };
type CounterDoc = { _id: string; count: number; resetAt: Date };
// `codes`: the batch of recovery codes the factor was enabled with (enableTotp); a code's `batch` names it.
type TotpDoc = Omit<TotpFactor, 'userId'> & { _id: string; codes?: string };
type RecoveryDoc = { userId: string; hash: string; createdAt: Date; batch?: string };
type OAuthClientDoc = Omit<OAuthClient, 'id'> & { _id: string };
type OAuthTokenDoc = Omit<OAuthToken, 'hash'> & { _id: string };
type OAuthConsentDoc = OAuthConsent & { _id?: unknown };
type DeviceDoc = Omit<DeviceAuthorization, 'deviceHash'> & { _id: string };
type EventDoc = Omit<SecurityEvent, 'id'> & { _id: string };
type SigningKeyDoc = Omit<SigningKeyRecord, 'generation'> & { _id: number };
type ReplicaDoc = Omit<ReplicaBeat, 'id'> & { _id: string };

// Documents keep the contract's field names, with the record's id (a token's hash) as _id.
const withId = <T extends { id: string }>({ id, ...rest }: T): Omit<T, 'id'> & { _id: string } => ({ _id: id, ...rest });
const toUser = ({ _id, ...rest }: UserDoc): User => ({ id: _id, ...rest, groups: rest.groups ?? [] }); // v1 documents have no groups
// Stored without `amr` when none was given (and by versions before it existed), and documents from
// before schema version 5 lack pairedFrom, scopes and note: each reads back as none.
const toSession = ({ _id, amr, pairedFrom, ...rest }: SessionDoc): Session => ({ id: _id, ...rest, ...(amr?.length ? { amr } : {}), ...optional('pairedFrom', pairedFrom ?? null) });
const toTotp = (d: TotpDoc): TotpFactor => ({ userId: d._id, secret: d.secret, confirmed: d.confirmed, lastStep: d.lastStep, createdAt: d.createdAt });
const toKey = ({ _id, scopes, ...rest }: KeyDoc): ApiKey => ({ id: _id, ...rest, ...optional('scopes', scopes?.length ? scopes : null) });
const toPasskey = ({ _id, ...rest }: PasskeyDoc): Passkey => ({ id: _id, ...rest });
const toToken = (d: TokenDoc): OneTimeToken => ({ hash: d._id, kind: d.kind, userId: d.userId, email: d.email, createdAt: d.createdAt, expiresAt: d.expiresAt, ...optional('note', d.note ?? null) });
const toIdentity = (d: Document): Identity => ({
  issuer: d.issuer, subject: d.subject, provider: d.provider, userId: d.userId, email: d.email ?? null, createdAt: d.createdAt,
});

/**
 * The driver settings for a binding URL. `?pool=` / `?max=` / GATEHOUSE_DB_POOL become maxPoolSize,
 * bounded like every backend's pool (the driver would take 0 as "unbounded"); a bad size throws
 * StoreError('INVALID') before connecting.
 */
export function mongoClientSettings(url: string, options: StoreOptions = {}): { url: string; options: MongoClientOptions } {
  const { url: rest, poolSize } = takePoolSizeFromString(url, options.poolSize);
  // A hung server: selection, connecting and waiting for a pooled connection give up with the call's
  // deadline; a socket silent for longer than a migration may take is closed.
  const timeouts = { serverSelectionTimeoutMS: DRIVER_TIMEOUT_MS, connectTimeoutMS: DRIVER_TIMEOUT_MS, waitQueueTimeoutMS: DRIVER_TIMEOUT_MS, socketTimeoutMS: 15_000 };
  return { url: rest, options: { maxPoolSize: poolSize, ...timeouts } };
}

interface Collections {
  users: Collection<UserDoc>;
  identities: Collection<Document>;
  sessions: Collection<SessionDoc>;
  tokens: Collection<TokenDoc>;
  keys: Collection<KeyDoc>;
  passkeys: Collection<PasskeyDoc>;
  counters: Collection<CounterDoc>;
  totp: Collection<TotpDoc>;
  recovery: Collection<RecoveryDoc>;
  oauthClients: Collection<OAuthClientDoc>;
  oauthConsents: Collection<OAuthConsentDoc>;
  oauthTokens: Collection<OAuthTokenDoc>;
  devices: Collection<DeviceDoc>;
  events: Collection<EventDoc>;
  signingKeys: Collection<SigningKeyDoc>;
  replicas: Collection<ReplicaDoc>;
  schema: Collection<{ _id: string; version: number }>;
}

function collections(db: Db, p: string): Collections {
  return {
    users: db.collection<UserDoc>(`${p}users`),
    identities: db.collection(`${p}identities`),
    sessions: db.collection<SessionDoc>(`${p}sessions`),
    tokens: db.collection<TokenDoc>(`${p}tokens`),
    keys: db.collection<KeyDoc>(`${p}api_keys`),
    passkeys: db.collection<PasskeyDoc>(`${p}passkeys`),
    counters: db.collection<CounterDoc>(`${p}counters`),
    totp: db.collection<TotpDoc>(`${p}totp`),
    recovery: db.collection<RecoveryDoc>(`${p}recovery_codes`),
    oauthClients: db.collection<OAuthClientDoc>(`${p}oauth_clients`),
    oauthConsents: db.collection<OAuthConsentDoc>(`${p}oauth_consents`),
    oauthTokens: db.collection<OAuthTokenDoc>(`${p}oauth_tokens`),
    devices: db.collection<DeviceDoc>(`${p}device_authorizations`),
    events: db.collection<EventDoc>(`${p}events`),
    signingKeys: db.collection<SigningKeyDoc>(`${p}signing_keys`),
    replicas: db.collection<ReplicaDoc>(`${p}replicas`),
    schema: db.collection<{ _id: string; version: number }>(`${p}schema`),
  };
}

/** Creates the pending versions' indexes, recording each version as it completes (so a cut-short run resumes). */
async function migrate(db: Db, p: string, { schema }: Collections): Promise<void> {
  const current = (await schema.findOne({ _id: 'schema' }))?.version ?? 0;
  for (const m of pendingMigrations(current)) {
    // createIndexes is idempotent, so two replicas migrating together both succeed.
    for (const step of m.mongodb) await db.collection(`${p}${step.collection}`).createIndexes(step.indexes);
    // $max: a replica that got further never has its version lowered by a slower one.
    await schema.updateOne({ _id: 'schema' }, { $max: { version: m.version } }, { upsert: true }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err; // a concurrent upsert of the same document won
    });
  }
}

export function createMongoStore(url: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const settings = mongoClientSettings(url, options);
  const client = new MongoClient(settings.url, settings.options);
  const db: Db = client.db(); // the database named in the URL ("test" when none)
  const c = collections(db, p);
  return {
    kind: 'mongodb',
    migrate: () => unbounded(() => migrate(db, p, c)),
    ping: () => wrap(async () => void (await db.command({ ping: 1 }))),
    close: () => client.close(),
    ...userOps(c),
    ...sessionOps(c),
    ...tokenOps(c),
    ...keyOps(c),
    ...passkeyOps(c),
    ...mfaOps(c),
    ...oauthOps(c),
    ...deviceOps(c),
    ...eventOps(c),
    ...signingKeyOps(c),
    ...counterOps(c),
  };
}

/** The console's search: email or name contains the query, any case (regex metacharacters escaped). */
const userSearch = (query: string | undefined) => {
  const q = query?.trim().toLowerCase();
  if (!q) return NOT_RESERVED;
  const re = { $regex: q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' };
  return { ...NOT_RESERVED, $or: [{ email: re }, { name: re }] };
};

function eventOps({ events }: Collections): Ops<'recordEvent' | 'listEvents' | 'pruneEvents'> {
  const toEvent = ({ _id, ...rest }: EventDoc): SecurityEvent => ({ id: _id, ...rest });
  return {
    recordEvent: (e) =>
      wrap(async () => void (await events.insertOne({ _id: e.id, at: e.at, event: e.event.slice(0, 64), userId: e.userId, email: e.email?.slice(0, 320) ?? null, ip: e.ip?.slice(0, 64) ?? null, detail: e.detail?.slice(0, 1000) ?? null }))),
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

type Ops<K extends keyof Store> = Pick<Store, K>;

/** Gatehouse's own users are no one's account: never listed or counted (store/rules.ts). */
const NOT_RESERVED = { _id: { $not: { $regex: `^${RESERVED_USER_PREFIX}` } } };

function userOps({ users, identities, sessions, keys, tokens, passkeys, totp, recovery, oauthConsents, oauthTokens, devices }: Collections): Ops<'createUser' | 'findUserById' | 'findUserByEmail' | 'updateUser' | 'deleteUser' | 'listUsers' | 'countUsers' | 'importUser' | 'linkIdentity' | 'findIdentity' | 'listIdentities' | 'unlinkIdentity'> {
  return {
    createUser: (input, now) =>
      wrap(async () => {
        const doc: UserDoc = { _id: randomUUID(), ...input, groups: normalGroups(input.groups ?? []), disabled: false, createdAt: now, updatedAt: now };
        await users.insertOne(doc);
        return toUser(doc);
      }),
    findUserById: (id) => wrap(async () => ((d) => (d ? toUser(d) : null))(await users.findOne({ _id: id }))),
    findUserByEmail: (email) => wrap(async () => ((d) => (d ? toUser(d) : null))(await users.findOne({ email }))),
    updateUser: (id, patch, now) =>
      wrap(async () => {
        const set: Document = { updatedAt: now };
        for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[k] = k === 'groups' ? normalGroups(v as string[]) : v;
        const d = await users.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
        return d ? toUser(d) : null;
      }),
    deleteUser: (id) =>
      wrap(async () => {
        await Promise.all([sessions.deleteMany({ userId: id }), identities.deleteMany({ userId: id }), keys.deleteMany({ userId: id }), tokens.deleteMany({ userId: id }), passkeys.deleteMany({ userId: id }),
          totp.deleteOne({ _id: id }), recovery.deleteMany({ userId: id }), oauthConsents.deleteMany({ userId: id }), oauthTokens.deleteMany({ userId: id }), devices.deleteMany({ userId: id })]);
        return (await users.deleteOne({ _id: id })).deletedCount === 1;
      }),
    listUsers: ({ limit, offset, query }) => wrap(async () => (await users.find(userSearch(query)).sort({ createdAt: 1, _id: 1 }).skip(offset).limit(limit).toArray()).map(toUser)),
    countUsers: (query) => wrap(() => users.countDocuments(userSearch(query))),
    importUser: (u) => wrap(async () => void (await users.insertOne(withId(u)))),

    linkIdentity: (i) => wrap(async () => void (await identities.insertOne({ ...i }))),
    findIdentity: (issuer, subject) => wrap(async () => ((d) => (d ? toIdentity(d) : null))(await identities.findOne({ issuer, subject }))),
    listIdentities: (userId) =>
      wrap(async () => (await identities.find({ userId }).sort({ createdAt: 1, issuer: 1, subject: 1 }).toArray()).map(toIdentity)),
    unlinkIdentity: (userId, issuer, subject) => wrap(async () => (await identities.deleteOne({ userId, issuer, subject })).deletedCount === 1),
  };
}

function sessionOps({ sessions }: Collections): Ops<'createSession' | 'findSession' | 'touchSession' | 'deleteSession' | 'deleteUserSessions' | 'deleteAllSessions' | 'listUserSessions' | 'deleteExpiredSessions'> {
  return {
    createSession: ({ amr, ...s }) => wrap(async () => void (await sessions.insertOne(withId({ ...s, ...(amr?.length ? { amr } : {}), pairedFrom: s.pairedFrom?.slice(0, 200) ?? null })))),
    findSession: (id) => wrap(async () => ((d) => (d ? toSession(d) : null))(await sessions.findOne({ _id: id }))),
    touchSession: (id, at) => wrap(async () => void (await sessions.updateOne({ _id: id, lastSeenAt: { $lt: at } }, { $set: { lastSeenAt: at } }))),
    deleteSession: (id) => wrap(async () => (await sessions.deleteOne({ _id: id })).deletedCount === 1),
    deleteUserSessions: (userId, exceptId) => wrap(async () => (await sessions.deleteMany({ userId, _id: { $ne: exceptId ?? '' } })).deletedCount),
    deleteAllSessions: () => wrap(async () => (await sessions.deleteMany({})).deletedCount),
    listUserSessions: (userId) => wrap(async () => (await sessions.find({ userId }).sort({ createdAt: -1, _id: 1 }).toArray()).map(toSession)),
    deleteExpiredSessions: (now, idleMs) =>
      wrap(async () => (await sessions.deleteMany({ $or: [{ expiresAt: { $lte: now } }, { lastSeenAt: { $lte: new Date(now.getTime() - idleMs) } }] })).deletedCount),
  };
}

function tokenOps({ tokens }: Collections): Ops<'createToken' | 'consumeToken' | 'findToken' | 'deleteTokens' | 'listTokens'> {
  return {
    createToken: (t) => wrap(async () => void (await tokens.insertOne({ _id: t.hash, kind: t.kind, userId: t.userId, email: t.email, createdAt: t.createdAt, expiresAt: t.expiresAt, note: t.note?.slice(0, 200) ?? null }))),
    consumeToken: (hash, kind, now) =>
      wrap(async () => {
        const d = await tokens.findOneAndDelete({ _id: hash, kind });
        return !d || d.expiresAt.getTime() <= now.getTime() ? null : toToken(d);
      }),
    findToken: (hash, kind, now) => wrap(async () => ((d) => (d ? toToken(d) : null))(await tokens.findOne({ _id: hash, kind, expiresAt: { $gt: now } }))),
    deleteTokens: (kind: TokenKind, userId) => wrap(async () => (await tokens.deleteMany(userId === undefined ? { kind } : { kind, userId })).deletedCount),
    listTokens: (kind, now) => wrap(async () => (await tokens.find({ kind, expiresAt: { $gt: now } }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toToken)),
  };
}

function keyOps({ keys }: Collections): Ops<'createApiKey' | 'findApiKeyByHash' | 'listApiKeys' | 'revokeApiKey' | 'touchApiKey'> {
  return {
    createApiKey: (k) => wrap(async () => void (await keys.insertOne(withId({ ...k, scopes: normalScopes(k.scopes ?? []) })))),
    findApiKeyByHash: (hash) => wrap(async () => ((d) => (d ? toKey(d) : null))(await keys.findOne({ hash }))),
    listApiKeys: (userId) => wrap(async () => (await keys.find(userId ? { userId } : {}).sort({ createdAt: 1, _id: 1 }).toArray()).map(toKey)),
    revokeApiKey: (id) => wrap(async () => (await keys.updateOne({ _id: id, revoked: false }, { $set: { revoked: true } })).modifiedCount === 1),
    touchApiKey: (id, at) => wrap(async () => void (await keys.updateOne({ _id: id }, { $set: { lastUsedAt: at } }))),
  };
}

function passkeyOps({ passkeys }: Collections): Ops<'createPasskey' | 'findPasskey' | 'listPasskeys' | 'renamePasskey' | 'deletePasskey' | 'usePasskey'> {
  return {
    createPasskey: (k) => wrap(async () => void (await passkeys.insertOne(withId({ ...k, transports: [...k.transports] })))),
    findPasskey: (id) => wrap(async () => ((d) => (d ? toPasskey(d) : null))(await passkeys.findOne({ _id: id }))),
    listPasskeys: (userId) => wrap(async () => (await passkeys.find({ userId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toPasskey)),
    renamePasskey: (userId, id, name) => wrap(async () => (await passkeys.updateOne({ _id: id, userId }, { $set: { name } })).matchedCount === 1),
    deletePasskey: (userId, id) => wrap(async () => (await passkeys.deleteOne({ _id: id, userId })).deletedCount === 1),
    // The counter test is in the filter: of two uses with the same counter, one wins.
    usePasskey: (id, counter, at) =>
      wrap(async () => {
        const forward = counter === 0 ? { counter: 0 } : { counter: { $lt: counter } };
        return (await passkeys.updateOne({ _id: id, ...forward }, { $set: { counter, lastUsedAt: at } })).matchedCount === 1;
      }),
  };
}

/**
 * Enrolment written whole without a multi-document transaction (a standalone server has none): the
 * factor document is the commit point. The new codes go in first, marked with a batch no reader counts;
 * one conditional update turns the factor on and names that batch, and from then on those codes count;
 * the codes of other batches and the unmarked old ones go last. A crash before the update leaves no
 * factor (and uncounted codes); after it, the factor with all its codes (and, until a regenerate, the
 * old unmarked ones too, which were the user's already).
 */
function enrolmentOps({ totp, recovery }: Collections): Ops<'enableTotp'> & { counted(userId: string): Promise<Document> } {
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
        const won = (await totp.updateOne({ _id: userId, confirmed: false }, { $set: { confirmed: true, lastStep: step, codes: batch } })).modifiedCount === 1;
        await recovery.deleteMany(won ? { userId, batch: { $ne: batch } } : { userId, batch });
        return won;
      }),
  };
}

type MfaVerbs = 'saveTotp' | 'findTotp' | 'confirmTotp' | 'useTotpStep' | 'deleteTotp'
  | 'replaceRecoveryCodes' | 'consumeRecoveryCode' | 'countRecoveryCodes' | 'listRecoveryCodes' | 'deleteRecoveryCodes';

function mfaOps(c: Collections): Ops<MfaVerbs | 'enableTotp'> {
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
    confirmTotp: (userId, step) => wrap(async () => (await totp.updateOne({ _id: userId, confirmed: false }, { $set: { confirmed: true, lastStep: step } })).modifiedCount === 1),
    // One conditional update: it matches for exactly one of the callers presenting the same step.
    useTotpStep: (userId, step) =>
      wrap(async () => (await totp.updateOne({ _id: userId, confirmed: true, $or: [{ lastStep: null }, { lastStep: { $lt: step } }] }, { $set: { lastStep: step } })).modifiedCount === 1),
    deleteTotp: (userId) => wrap(async () => (await totp.deleteOne({ _id: userId })).deletedCount === 1),
    replaceRecoveryCodes: (userId, hashes, now) =>
      wrap(async () => {
        await recovery.deleteMany({ userId });
        if (hashes.length) await recovery.insertMany(hashes.map((hash) => ({ userId, hash, createdAt: now })));
      }),
    consumeRecoveryCode: (userId, hash) => wrap(async () => (await recovery.deleteOne({ ...(await counted(userId)), hash })).deletedCount === 1),
    countRecoveryCodes: (userId) => wrap(async () => recovery.countDocuments(await counted(userId))),
    listRecoveryCodes: (userId) => wrap(async () => (await recovery.find(await counted(userId)).sort({ hash: 1 }).toArray()).map((d) => d.hash)),
    deleteRecoveryCodes: (userId) => wrap(async () => (await recovery.deleteMany({ userId })).deletedCount),
  };
}

const toOAuthClient = ({ _id, ...rest }: OAuthClientDoc): OAuthClient => ({ id: _id, ...rest });
const toOAuthToken = ({ _id, ...rest }: OAuthTokenDoc): OAuthToken => ({ hash: _id, ...rest });
const toOAuthConsent = (d: OAuthConsentDoc): OAuthConsent => ({ userId: d.userId, clientId: d.clientId, resource: d.resource, scopes: d.scopes, createdAt: d.createdAt });

// No foreign keys: deleting a client takes its consents and tokens by hand (tokens first, so a
// half-done delete never leaves tokens of a client that is gone).
type OAuthTokenVerbs = 'createOAuthToken' | 'findOAuthToken' | 'useOAuthToken' | 'deleteOAuthFamily'
  | 'supersedeOAuthRefresh' | 'listOAuthTokens' | 'deleteExpiredOAuthTokens';

function oauthOps(c: Collections): Ops<
  'createOAuthClient' | 'updateOAuthClient' | 'findOAuthClient' | 'listOAuthClients' | 'touchOAuthClient' | 'deleteOAuthClient' | 'deleteUnusedOAuthClients'
  | 'saveOAuthConsent' | 'findOAuthConsent' | 'listOAuthConsents' | 'revokeOAuthGrant' | OAuthTokenVerbs
> {
  const { oauthClients: clients, oauthConsents: consents, oauthTokens: tokens, devices } = c;
  const dropClient = async (id: string) => {
    await tokens.deleteMany({ clientId: id });
    await devices.deleteMany({ clientId: id });
    await consents.deleteMany({ clientId: id });
    return (await clients.deleteOne({ _id: id })).deletedCount === 1;
  };
  return {
    createOAuthClient: (c) => wrap(async () => void (await clients.insertOne(withId(c)))),
    updateOAuthClient: (id, c) => wrap(async () => (await clients.updateOne({ _id: id }, { $set: { name: c.name, redirectUris: c.redirectUris, cachedUntil: c.cachedUntil } })).matchedCount === 1),
    findOAuthClient: (id) => wrap(async () => ((d) => (d ? toOAuthClient(d) : null))(await clients.findOne({ _id: id }))),
    listOAuthClients: () => wrap(async () => (await clients.find().sort({ createdAt: 1, _id: 1 }).toArray()).map(toOAuthClient)),
    touchOAuthClient: (id, at) => wrap(async () => void (await clients.updateOne({ _id: id }, { $set: { lastUsedAt: at } }))),
    deleteOAuthClient: (id) => wrap(() => dropClient(id)),
    deleteUnusedOAuthClients: (before) =>
      wrap(async () => {
        const stale = await clients.find({ kind: 'dcr', lastUsedAt: null, createdAt: { $lt: before } }).project<{ _id: string }>({ _id: 1 }).toArray();
        let n = 0;
        for (const { _id } of stale) if (await dropClient(_id)) n++;
        return n;
      }),

    saveOAuthConsent: (c) =>
      wrap(async () => void (await consents.replaceOne({ userId: c.userId, clientId: c.clientId, resource: c.resource }, { ...c }, { upsert: true }).catch((err: { code?: number }) => {
        if (err.code !== 11000) throw err; // a concurrent twin's upsert won: the same consent
      }))),
    findOAuthConsent: (userId, clientId, resource) => wrap(async () => ((d) => (d ? toOAuthConsent(d) : null))(await consents.findOne({ userId, clientId, resource }))),
    listOAuthConsents: (userId) =>
      wrap(async () => (await consents.find(userId ? { userId } : {}).sort({ createdAt: 1, userId: 1, clientId: 1, resource: 1 }).toArray()).map(toOAuthConsent)),
    revokeOAuthGrant: (userId, clientId) =>
      wrap(async () => {
        await consents.deleteMany({ userId, clientId });
        return (await tokens.deleteMany({ userId, clientId, kind: { $ne: 'code' } })).deletedCount;
      }),

    ...oauthTokenOps(c),
  };
}

/** Codes, access and refresh tokens: conditional updates and deletes are the referees (types.ts says of what). */
function oauthTokenOps({ oauthTokens: tokens }: Collections): Ops<OAuthTokenVerbs> {
  return {
    createOAuthToken: (t) => wrap(async () => void (await tokens.insertOne((({ hash, ...rest }) => ({ _id: hash, ...rest }))(t)))),
    findOAuthToken: (hash, kind, now) => wrap(async () => ((d) => (d ? toOAuthToken(d) : null))(await tokens.findOne({ _id: hash, kind, expiresAt: { $gt: now } }))),
    useOAuthToken: (hash, kind, now) =>
      wrap(async () => {
        // The conditional update is the referee: only one caller moves usedAt from null.
        const won = await tokens.updateOne({ _id: hash, kind, usedAt: null, expiresAt: { $gt: now } }, { $set: { usedAt: now } });
        const d = await tokens.findOne({ _id: hash, kind, expiresAt: { $gt: now } });
        return d ? { token: toOAuthToken(d), first: won.modifiedCount === 1 } : null;
      }),
    deleteOAuthFamily: (family) => wrap(async () => (await tokens.deleteMany({ family })).deletedCount),
    supersedeOAuthRefresh: (spent, keep) =>
      wrap(async () => {
        const family = spent.family;
        const unusedOrAccess = [{ kind: 'access' as const }, { kind: 'refresh' as const, usedAt: null }];
        await tokens.deleteMany({ family, _id: { $nin: keep }, $or: unusedOrAccess });
        const since = spent.usedAt ?? new Date(0);
        const later = await tokens.findOne({ family, kind: 'refresh', _id: { $ne: spent.hash }, usedAt: { $gte: since } });
        return later ? 'replayed' : 'superseded';
      }),
    listOAuthTokens: (userId) =>
      wrap(async () => (await tokens.find(userId ? { userId, kind: { $ne: 'code' } } : { kind: { $ne: 'code' } }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toOAuthToken)),
    deleteExpiredOAuthTokens: (now) => wrap(async () => (await tokens.deleteMany({ expiresAt: { $lte: now } })).deletedCount),
  };
}

const toDevice = ({ _id, ...rest }: DeviceDoc): DeviceAuthorization => ({ deviceHash: _id, ...rest });

// Device authorizations (RFC 8628): conditional updates and findOneAndDelete are the referees.
function deviceOps({ devices }: Collections): Ops<'createDeviceAuthorization' | 'findPendingDeviceAuthorization' | 'decideDeviceAuthorization' | 'pollDeviceAuthorization' | 'takeDecidedDeviceAuthorization' | 'deleteExpiredDeviceAuthorizations'> {
  return {
    createDeviceAuthorization: (a) => wrap(async () => void (await devices.insertOne((({ deviceHash, ...rest }) => ({ _id: deviceHash, ...rest }))(a)))),
    findPendingDeviceAuthorization: (userHash, now) => wrap(async () => ((d) => (d ? toDevice(d) : null))(await devices.findOne({ userHash, status: 'pending', expiresAt: { $gt: now } }))),
    decideDeviceAuthorization: (userHash, status, userId, now) =>
      wrap(async () => (await devices.updateOne({ userHash, status: 'pending', expiresAt: { $gt: now } }, { $set: { status, userId } })).modifiedCount === 1),
    pollDeviceAuthorization: (hash, now) =>
      wrap(async () => {
        const seen = await devices.findOne({ _id: hash });
        if (!seen) return null;
        const due = seen.lastPollAt === null || seen.lastPollAt.getTime() + seen.intervalSec * 1000 <= now.getTime();
        // Compare-and-set on the poll time read: of two concurrent polls only one moves it as "on time".
        const onTime = due && (await devices.updateOne({ _id: hash, lastPollAt: seen.lastPollAt }, { $set: { lastPollAt: now } })).modifiedCount === 1;
        if (!onTime) await devices.updateOne({ _id: hash }, { $inc: { intervalSec: 5 }, $set: { lastPollAt: now } });
        const d = await devices.findOne({ _id: hash });
        return d ? { auth: toDevice(d), tooFast: !onTime } : null;
      }),
    takeDecidedDeviceAuthorization: (hash) => wrap(async () => ((d) => (d ? toDevice(d) : null))(await devices.findOneAndDelete({ _id: hash, status: { $ne: 'pending' } }))),
    deleteExpiredDeviceAuthorizations: (now) => wrap(async () => (await devices.deleteMany({ expiresAt: { $lte: now } })).deletedCount),
  };
}

// Signing keys and replica heartbeats (architecture.md#access): the unique _id (the generation) is the referee.
function signingKeyOps({ signingKeys: keys, replicas }: Collections): Ops<
  'addSigningKey' | 'listSigningKeys' | 'deleteSigningKey' |
  'recordReplica' | 'listReplicas' | 'deleteReplicasSeenBefore'
> {
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
        const docs = await replicas.find({ seenAt: { $gte: since } }).sort({ _id: 1 }).toArray();
        return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
      }),
    deleteReplicasSeenBefore: (before) =>
      wrap(async () => (await replicas.deleteMany({ seenAt: { $lt: before } })).deletedCount),
  };
}

function counterOps({ counters }: Collections): Ops<'hit' | 'peekCounter' | 'clearCounter'> {
  return {
    hit: (key, windowMs, now) =>
      wrap(async () => {
        const fresh = { $or: [{ $eq: [{ $type: '$resetAt' }, 'missing'] }, { $lte: ['$resetAt', now] }] };
        const update = [{ $set: { count: { $cond: [fresh, 1, { $add: ['$count', 1] }] }, resetAt: { $cond: [fresh, new Date(now.getTime() + windowMs), '$resetAt'] } } }];
        const run = () => counters.findOneAndUpdate({ _id: counterKey(key) }, update, { upsert: true, returnDocument: 'after' });
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
