// API keys and passkeys on MongoDB.
import { normalScopes, optional } from '../rules.js';
import type { ApiKey, ApiKeyStore, Passkey, PasskeyStore } from '../types.js';
import { withId, wrap, type Collections, type KeyDoc, type PasskeyDoc } from './common.js';

// Documents from before schema version 5 lack scopes: they read back as none.
const toKey = ({ _id, scopes, ...rest }: KeyDoc): ApiKey => ({
  id: _id,
  ...rest,
  ...optional('scopes', scopes?.length ? scopes : null),
});
const toPasskey = ({ _id, ...rest }: PasskeyDoc): Passkey => ({ id: _id, ...rest });

export function keyOps({ keys }: Collections): ApiKeyStore {
  return {
    createApiKey: (k) =>
      wrap(async () => void (await keys.insertOne(withId({ ...k, scopes: normalScopes(k.scopes ?? []) })))),
    findApiKeyByHash: (hash) => wrap(async () => ((d) => (d ? toKey(d) : null))(await keys.findOne({ hash }))),
    listApiKeys: (userId) =>
      wrap(async () =>
        (
          await keys
            .find(userId ? { userId } : {})
            .sort({ createdAt: 1, _id: 1 })
            .toArray()
        ).map(toKey),
      ),
    revokeApiKey: (id) =>
      wrap(
        async () =>
          (await keys.updateOne({ _id: id, revoked: false }, { $set: { revoked: true } })).modifiedCount === 1,
      ),
    touchApiKey: (id, at) => wrap(async () => void (await keys.updateOne({ _id: id }, { $set: { lastUsedAt: at } }))),
  };
}

export function passkeyOps({ passkeys }: Collections): PasskeyStore {
  return {
    createPasskey: (k) =>
      wrap(async () => void (await passkeys.insertOne(withId({ ...k, transports: [...k.transports] })))),
    findPasskey: (id) => wrap(async () => ((d) => (d ? toPasskey(d) : null))(await passkeys.findOne({ _id: id }))),
    listPasskeys: (userId) =>
      wrap(async () => (await passkeys.find({ userId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toPasskey)),
    renamePasskey: (userId, id, name) =>
      wrap(async () => (await passkeys.updateOne({ _id: id, userId }, { $set: { name } })).matchedCount === 1),
    deletePasskey: (userId, id) => wrap(async () => (await passkeys.deleteOne({ _id: id, userId })).deletedCount === 1),
    // The counter test is in the filter: of two uses with the same counter, one wins.
    usePasskey: (id, counter, at) =>
      wrap(async () => {
        const forward = counter === 0 ? { counter: 0 } : { counter: { $lt: counter } };
        return (
          (await passkeys.updateOne({ _id: id, ...forward }, { $set: { counter, lastUsedAt: at } })).matchedCount === 1
        );
      }),
  };
}
