// The OAuth authorization server's clients, consents and tokens on MongoDB (architecture.md#oauth).
import type { OAuthClient, OAuthClientStore, OAuthConsent, OAuthToken, OAuthTokenStore } from '../types.js';
import {
  withId,
  wrap,
  type Collections,
  type OAuthClientDoc,
  type OAuthConsentDoc,
  type OAuthTokenDoc,
} from './common.js';

const toOAuthClient = ({ _id, ...rest }: OAuthClientDoc): OAuthClient => ({ id: _id, ...rest });
const toOAuthToken = ({ _id, ...rest }: OAuthTokenDoc): OAuthToken => ({ hash: _id, ...rest });
const toOAuthConsent = (d: OAuthConsentDoc): OAuthConsent => ({
  userId: d.userId,
  clientId: d.clientId,
  resource: d.resource,
  scopes: d.scopes,
  createdAt: d.createdAt,
});

// No foreign keys: deleting a client takes its consents and tokens by hand (tokens first, so a
// half-done delete never leaves tokens of a client that is gone).
export function oauthClientOps(c: Collections): OAuthClientStore {
  const { oauthClients: clients, oauthConsents: consents, oauthTokens: tokens, devices } = c;
  const dropClient = async (id: string) => {
    await tokens.deleteMany({ clientId: id });
    await devices.deleteMany({ clientId: id });
    await consents.deleteMany({ clientId: id });
    return (await clients.deleteOne({ _id: id })).deletedCount === 1;
  };
  return {
    createOAuthClient: (c) => wrap(async () => void (await clients.insertOne(withId(c)))),
    updateOAuthClient: (id, c) =>
      wrap(async () => {
        const set = { $set: { name: c.name, redirectUris: c.redirectUris, cachedUntil: c.cachedUntil } };
        return (await clients.updateOne({ _id: id }, set)).matchedCount === 1;
      }),
    findOAuthClient: (id) =>
      wrap(async () => ((d) => (d ? toOAuthClient(d) : null))(await clients.findOne({ _id: id }))),
    listOAuthClients: () =>
      wrap(async () => (await clients.find().sort({ createdAt: 1, _id: 1 }).toArray()).map(toOAuthClient)),
    touchOAuthClient: (id, at) =>
      wrap(async () => void (await clients.updateOne({ _id: id }, { $set: { lastUsedAt: at } }))),
    deleteOAuthClient: (id) => wrap(() => dropClient(id)),
    deleteUnusedOAuthClients: (before) =>
      wrap(async () => {
        const unused = { kind: 'dcr' as const, lastUsedAt: null, createdAt: { $lt: before } };
        const stale = await clients.find(unused).project<{ _id: string }>({ _id: 1 }).toArray();
        let n = 0;
        for (const { _id } of stale) if (await dropClient(_id)) n++;
        return n;
      }),
    ...consentOps(c),
  };
}

function consentOps({
  oauthConsents: consents,
  oauthTokens: tokens,
}: Collections): Pick<
  OAuthClientStore,
  'saveOAuthConsent' | 'findOAuthConsent' | 'listOAuthConsents' | 'revokeOAuthGrant'
> {
  return {
    saveOAuthConsent: (c) =>
      wrap(async () => {
        const key = { userId: c.userId, clientId: c.clientId, resource: c.resource };
        await consents.replaceOne(key, { ...c }, { upsert: true }).catch((err: { code?: number }) => {
          if (err.code !== 11000) throw err; // a concurrent twin's upsert won: the same consent
        });
      }),
    findOAuthConsent: (userId, clientId, resource) =>
      wrap(async () => ((d) => (d ? toOAuthConsent(d) : null))(await consents.findOne({ userId, clientId, resource }))),
    listOAuthConsents: (userId) =>
      wrap(async () => {
        const order = { createdAt: 1, userId: 1, clientId: 1, resource: 1 } as const;
        return (
          await consents
            .find(userId ? { userId } : {})
            .sort(order)
            .toArray()
        ).map(toOAuthConsent);
      }),
    revokeOAuthGrant: (userId, clientId) =>
      wrap(async () => {
        await consents.deleteMany({ userId, clientId });
        return (await tokens.deleteMany({ userId, clientId, kind: { $ne: 'code' } })).deletedCount;
      }),
  };
}

/** Codes, access and refresh tokens: conditional updates and deletes are the referees (contract/oauth.ts
 *  says of what). */
export function oauthTokenOps({ oauthTokens: tokens }: Collections): OAuthTokenStore {
  return {
    createOAuthToken: ({ hash, ...rest }) => wrap(async () => void (await tokens.insertOne({ _id: hash, ...rest }))),
    findOAuthToken: (hash, kind, now) =>
      wrap(async () =>
        ((d) => (d ? toOAuthToken(d) : null))(await tokens.findOne({ _id: hash, kind, expiresAt: { $gt: now } })),
      ),
    useOAuthToken: (hash, kind, now) =>
      wrap(async () => {
        // The conditional update is the referee: only one caller moves usedAt from null.
        const unused = { _id: hash, kind, usedAt: null, expiresAt: { $gt: now } };
        const won = await tokens.updateOne(unused, { $set: { usedAt: now } });
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
        const successor = { family, kind: 'refresh' as const, _id: { $ne: spent.hash }, usedAt: { $gte: since } };
        const later = await tokens.findOne(successor);
        return later ? 'replayed' : 'superseded';
      }),
    listOAuthTokens: (userId) =>
      wrap(async () => {
        const notCodes = userId ? { userId, kind: { $ne: 'code' as const } } : { kind: { $ne: 'code' as const } };
        return (await tokens.find(notCodes).sort({ createdAt: 1, _id: 1 }).toArray()).map(toOAuthToken);
      }),
    deleteExpiredOAuthTokens: (now) =>
      wrap(async () => (await tokens.deleteMany({ expiresAt: { $lte: now } })).deletedCount),
  };
}
