// The Store contract once for the three SQL backends (SQLite, PostgreSQL, MySQL/MariaDB). Every query
// that means the same on each dialect is written here, once, with `?` placeholders; a backend supplies
// a driver (how to run a statement, and its errors mapped to StoreError) and only what its dialect
// really does differently: migrating, the atomic counter statement, and whether UPDATE/DELETE can
// RETURNING (MySQL cannot). Backends agree by construction instead of by three copies kept in step.
import { randomUUID } from 'node:crypto';
import { counterKey, normalGroups, normalScopes, RESERVED_USER_PREFIX } from './rules.js';
import { date, num, toApiKey, toCounter, toDeviceAuthorization, toEvent, toIdentity, toOAuthClient, toOAuthConsent, toOAuthToken, toPasskey, toSession, toToken, toTotp, toUser, USER_PATCH_COLUMNS, type Row } from './sql-common.js';
import { isStoreError, type CounterState, type SigningKeyRecord, type Store, type StoreKind, type User, type UserPatch } from './types.js';

export interface SqlDriver {
  /** The rows of a SELECT, or of a statement with RETURNING. `?` placeholders, values in order. */
  rows(sql: string, values?: unknown[]): Promise<Row[]>;
  /** How many rows an INSERT, UPDATE or DELETE changed. */
  affected(sql: string, values?: unknown[]): Promise<number>;
}

export interface SqlBackend {
  kind: Exclude<StoreKind, 'mongodb'>;
  prefix: string; // already checked by checkPrefix
  driver: SqlDriver;
  /** UPDATE … RETURNING and DELETE … RETURNING work (SQLite, PostgreSQL; not MySQL). */
  returning: boolean;
  /** The key column of the counters table: `key` on SQLite (as shipped), `counter_key` elsewhere. */
  counterColumn: string;
  /** A column bound tighter than the contract (MySQL VARCHAR(512)) cuts the user agent to fit. */
  userAgentMax?: number;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Runs `work` on one connection in one transaction: committed when it resolves, rolled back when it
   *  throws, and never half applied if the process or the connection dies on the way. */
  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T>;
  /** One atomic fixed-window hit; `key` has already been through counterKey(). */
  hit(key: string, windowMs: number, now: Date): Promise<CounterState>;
}

type Ops<K extends keyof Store> = Pick<Store, K>;

export function createSqlStore(b: SqlBackend): Store {
  return {
    kind: b.kind,
    migrate: () => b.migrate(),
    ping: () => b.ping(),
    close: () => b.close(),
    ...userOps(b),
    ...identityOps(b),
    ...sessionOps(b),
    ...tokenOps(b),
    ...apiKeyOps(b),
    ...passkeyOps(b),
    ...mfaOps(b),
    ...oauthOps(b),
    ...deviceOps(b),
    ...eventOps(b),
    ...signingKeyOps(b),
    ...counterOps(b),
  };
}

const first = async (rows: Promise<Row[]>): Promise<Row | undefined> => (await rows)[0];

const USER_COLUMNS = 'id, email, name, role, password_hash, email_verified, disabled, group_names, created_at, updated_at';

/** Gatehouse's own users are no one's account: never listed or counted (store/rules.ts). */
const RESERVED_LIKE = `${RESERVED_USER_PREFIX}%`;

function userOps({ prefix: p, driver: d, returning }: SqlBackend): Ops<'createUser' | 'findUserById' | 'findUserByEmail' | 'updateUser' | 'deleteUser' | 'listUsers' | 'countUsers' | 'importUser'> {
  const byId = async (id: string) => ((r) => (r ? toUser(r) : null))(await first(d.rows(`SELECT * FROM ${p}users WHERE id = ?`, [id])));
  const insert = (u: User) =>
    d.affected(`INSERT INTO ${p}users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      u.id, u.email, u.name, u.role, u.passwordHash, u.emailVerified, u.disabled, normalGroups(u.groups ?? []).join(','), u.createdAt.getTime(), u.updatedAt.getTime(),
    ]);
  return {
    async createUser(input, now) {
      // Built here rather than read back: the row holds exactly these values, and it saves a round trip.
      const user: User = { id: randomUUID(), email: input.email, name: input.name, role: input.role, passwordHash: input.passwordHash,
        emailVerified: input.emailVerified, disabled: false, groups: normalGroups(input.groups ?? []), createdAt: now, updatedAt: now };
      await insert(user);
      return user;
    },
    findUserById: byId,
    findUserByEmail: async (email) => ((r) => (r ? toUser(r) : null))(await first(d.rows(`SELECT * FROM ${p}users WHERE email = ?`, [email]))),
    async updateUser(id, patch: UserPatch, now) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [k, c] of Object.entries(USER_PATCH_COLUMNS) as [keyof UserPatch, string][]) {
        if (patch[k] === undefined) continue;
        sets.push(`${c} = ?`);
        values.push(k === 'groups' ? normalGroups(patch.groups!).join(',') : patch[k]);
      }
      sets.push('updated_at = ?');
      values.push(now.getTime(), id);
      const update = `UPDATE ${p}users SET ${sets.join(', ')} WHERE id = ?`;
      if (!returning) return (await d.affected(update, values), byId(id));
      return ((r) => (r ? toUser(r) : null))(await first(d.rows(`${update} RETURNING *`, values)));
    },
    deleteUser: async (id) => (await d.affected(`DELETE FROM ${p}users WHERE id = ?`, [id])) === 1,
    listUsers: async ({ limit, offset, query }) => {
      const [where, values] = userSearch(query);
      return (await d.rows(`SELECT * FROM ${p}users WHERE id NOT LIKE ?${where} ORDER BY created_at, id LIMIT ? OFFSET ?`, [RESERVED_LIKE, ...values, limit, offset])).map(toUser);
    },
    countUsers: async (query) => {
      const [where, values] = userSearch(query);
      return Number((await first(d.rows(`SELECT COUNT(*) AS n FROM ${p}users WHERE id NOT LIKE ?${where}`, [RESERVED_LIKE, ...values])))!.n);
    },
    importUser: async (u) => void (await insert(u)),
  };
}

/** The search condition: email or name contains `query`, any case; `!` escapes LIKE's wildcards on every dialect. */
function userSearch(query: string | undefined): [string, unknown[]] {
  const q = query?.trim().toLowerCase();
  if (!q) return ['', []];
  const like = `%${q.replace(/[!%_]/g, (ch) => `!${ch}`)}%`;
  return [` AND (LOWER(email) LIKE ? ESCAPE '!' OR LOWER(name) LIKE ? ESCAPE '!')`, [like, like]];
}

function identityOps({ prefix: p, driver: d }: SqlBackend): Ops<'linkIdentity' | 'findIdentity' | 'listIdentities' | 'unlinkIdentity'> {
  return {
    async linkIdentity(i) {
      await d.affected(`INSERT INTO ${p}identities (issuer, subject, provider, user_id, email, created_at) VALUES (?, ?, ?, ?, ?, ?)`, [
        i.issuer, i.subject, i.provider, i.userId, i.email, i.createdAt.getTime(),
      ]);
    },
    findIdentity: async (issuer, subject) =>
      ((r) => (r ? toIdentity(r) : null))(await first(d.rows(`SELECT * FROM ${p}identities WHERE issuer = ? AND subject = ?`, [issuer, subject]))),
    listIdentities: async (userId) =>
      (await d.rows(`SELECT * FROM ${p}identities WHERE user_id = ? ORDER BY created_at, issuer, subject`, [userId])).map(toIdentity),
    unlinkIdentity: async (userId, issuer, subject) =>
      (await d.affected(`DELETE FROM ${p}identities WHERE user_id = ? AND issuer = ? AND subject = ?`, [userId, issuer, subject])) === 1,
  };
}

function sessionOps({ prefix: p, driver: d, userAgentMax }: SqlBackend): Ops<'createSession' | 'findSession' | 'touchSession' | 'deleteSession' | 'deleteUserSessions' | 'deleteAllSessions' | 'listUserSessions' | 'deleteExpiredSessions'> {
  return {
    async createSession(s) {
      const userAgent = userAgentMax === undefined ? s.userAgent : (s.userAgent?.slice(0, userAgentMax) ?? null);
      await d.affected(
        `INSERT INTO ${p}sessions (id, user_id, provider, created_at, last_seen_at, expires_at, ip, user_agent, amr, paired_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [s.id, s.userId, s.provider, s.createdAt.getTime(), s.lastSeenAt.getTime(), s.expiresAt.getTime(), s.ip, userAgent, s.amr?.length ? s.amr.join(',') : null, s.pairedFrom?.slice(0, 200) ?? null],
      );
    },
    findSession: async (id) => ((r) => (r ? toSession(r) : null))(await first(d.rows(`SELECT * FROM ${p}sessions WHERE id = ?`, [id]))),
    async touchSession(id, at) {
      // Never moves backwards: a slow request must not undo a later one's touch.
      await d.affected(`UPDATE ${p}sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, [at.getTime(), id, at.getTime()]);
    },
    deleteSession: async (id) => (await d.affected(`DELETE FROM ${p}sessions WHERE id = ?`, [id])) === 1,
    deleteUserSessions: (userId, exceptId) => d.affected(`DELETE FROM ${p}sessions WHERE user_id = ? AND id <> ?`, [userId, exceptId ?? '']),
    deleteAllSessions: () => d.affected(`DELETE FROM ${p}sessions`),
    listUserSessions: async (userId) => (await d.rows(`SELECT * FROM ${p}sessions WHERE user_id = ? ORDER BY created_at DESC, id`, [userId])).map(toSession),
    deleteExpiredSessions: (now, idleMs) =>
      d.affected(`DELETE FROM ${p}sessions WHERE expires_at <= ? OR last_seen_at <= ?`, [now.getTime(), now.getTime() - idleMs]),
  };
}

function tokenOps({ prefix: p, driver: d, returning }: SqlBackend): Ops<'createToken' | 'consumeToken' | 'findToken' | 'deleteTokens' | 'listTokens'> {
  const where = `FROM ${p}tokens WHERE hash = ? AND kind = ?`;
  // Deletes and returns the row in one step. Without RETURNING (MySQL) the row is read first, and of
  // all callers who read it only the one whose DELETE removed it wins.
  const take = async (hash: string, kind: string): Promise<Row | undefined> => {
    if (returning) return first(d.rows(`DELETE ${where} RETURNING *`, [hash, kind]));
    const r = await first(d.rows(`SELECT * ${where}`, [hash, kind]));
    return r && (await d.affected(`DELETE ${where}`, [hash, kind])) === 1 ? r : undefined;
  };
  return {
    async createToken(t) {
      await d.affected(`INSERT INTO ${p}tokens (hash, kind, user_id, email, created_at, expires_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        t.hash, t.kind, t.userId, t.email, t.createdAt.getTime(), t.expiresAt.getTime(), t.note?.slice(0, 200) ?? null,
      ]);
    },
    async consumeToken(hash, kind, now) {
      const r = await take(hash, kind);
      if (!r) return null;
      const t = toToken(r);
      return t.expiresAt.getTime() > now.getTime() ? t : null; // an expired token is removed all the same
    },
    async findToken(hash, kind, now) {
      const r = await first(d.rows(`SELECT * ${where} AND expires_at > ?`, [hash, kind, now.getTime()]));
      return r ? toToken(r) : null;
    },
    deleteTokens: (kind, userId) =>
      userId === undefined
        ? d.affected(`DELETE FROM ${p}tokens WHERE kind = ?`, [kind])
        : d.affected(`DELETE FROM ${p}tokens WHERE kind = ? AND user_id = ?`, [kind, userId]),
    listTokens: async (kind, now) =>
      (await d.rows(`SELECT * FROM ${p}tokens WHERE kind = ? AND expires_at > ? ORDER BY created_at, hash`, [kind, now.getTime()])).map(toToken),
  };
}

function apiKeyOps({ prefix: p, driver: d }: SqlBackend): Ops<'createApiKey' | 'findApiKeyByHash' | 'listApiKeys' | 'revokeApiKey' | 'touchApiKey'> {
  return {
    async createApiKey(k) {
      await d.affected(
        `INSERT INTO ${p}api_keys (id, hash, user_id, name, role, created_at, expires_at, last_used_at, revoked, scopes) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
        [k.id, k.hash, k.userId, k.name, k.role, k.createdAt.getTime(), k.expiresAt?.getTime() ?? null, false, normalScopes(k.scopes ?? []).join(' ')],
      );
    },
    findApiKeyByHash: async (hash) => ((r) => (r ? toApiKey(r) : null))(await first(d.rows(`SELECT * FROM ${p}api_keys WHERE hash = ?`, [hash]))),
    listApiKeys: async (userId) =>
      (userId
        ? await d.rows(`SELECT * FROM ${p}api_keys WHERE user_id = ? ORDER BY created_at, id`, [userId])
        : await d.rows(`SELECT * FROM ${p}api_keys ORDER BY created_at, id`)
      ).map(toApiKey),
    revokeApiKey: async (id) => (await d.affected(`UPDATE ${p}api_keys SET revoked = ? WHERE id = ? AND revoked = ?`, [true, id, false])) === 1,
    async touchApiKey(id, at) {
      await d.affected(`UPDATE ${p}api_keys SET last_used_at = ? WHERE id = ?`, [at.getTime(), id]);
    },
  };
}

function passkeyOps({ prefix: p, driver: d }: SqlBackend): Ops<'createPasskey' | 'findPasskey' | 'listPasskeys' | 'renamePasskey' | 'deletePasskey' | 'usePasskey'> {
  return {
    async createPasskey(k) {
      await d.affected(
        `INSERT INTO ${p}passkeys (id, user_id, public_key, counter, transports, name, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [k.id, k.userId, k.publicKey, k.counter, k.transports.join(','), k.name, k.createdAt.getTime(), k.lastUsedAt?.getTime() ?? null],
      );
    },
    findPasskey: async (id) => ((r) => (r ? toPasskey(r) : null))(await first(d.rows(`SELECT * FROM ${p}passkeys WHERE id = ?`, [id]))),
    listPasskeys: async (userId) => (await d.rows(`SELECT * FROM ${p}passkeys WHERE user_id = ? ORDER BY created_at, id`, [userId])).map(toPasskey),
    renamePasskey: async (userId, id, name) => (await d.affected(`UPDATE ${p}passkeys SET name = ? WHERE id = ? AND user_id = ?`, [name, id, userId])) === 1,
    deletePasskey: async (userId, id) => (await d.affected(`DELETE FROM ${p}passkeys WHERE id = ? AND user_id = ?`, [id, userId])) === 1,
    // The counter test is in the WHERE clause: of two uses with the same counter, one wins.
    usePasskey: async (id, counter, at) =>
      (await d.affected(`UPDATE ${p}passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0))`, [
        counter, at.getTime(), id, counter, counter,
      ])) === 1,
  };
}

type MfaVerbs = 'saveTotp' | 'findTotp' | 'confirmTotp' | 'enableTotp' | 'useTotpStep' | 'deleteTotp'
  | 'replaceRecoveryCodes' | 'consumeRecoveryCode' | 'countRecoveryCodes' | 'listRecoveryCodes' | 'deleteRecoveryCodes';

function mfaOps({ prefix: p, driver: d, transaction }: SqlBackend): Ops<MfaVerbs> {
  const confirm = (on: SqlDriver, userId: string, step: number) =>
    on.affected(`UPDATE ${p}totp SET confirmed = ?, last_step = ? WHERE user_id = ? AND confirmed = ?`, [true, step, userId, false]);
  const writeCodes = async (on: SqlDriver, userId: string, hashes: string[], now: Date) => {
    await on.affected(`DELETE FROM ${p}recovery_codes WHERE user_id = ?`, [userId]);
    if (!hashes.length) return;
    await on.affected(`INSERT INTO ${p}recovery_codes (user_id, hash, created_at) VALUES ${hashes.map(() => '(?, ?, ?)').join(', ')}`,
      hashes.flatMap((h) => [userId, h, now.getTime()]));
  };
  return {
    async saveTotp(f) {
      // The primary key on user_id makes the insert fail (DUPLICATE) while a confirmed factor exists.
      await d.affected(`DELETE FROM ${p}totp WHERE user_id = ? AND confirmed = ?`, [f.userId, false]);
      await d.affected(`INSERT INTO ${p}totp (user_id, secret, confirmed, last_step, created_at) VALUES (?, ?, ?, ?, ?)`, [
        f.userId, f.secret, f.confirmed, f.lastStep, f.createdAt.getTime(),
      ]);
    },
    findTotp: async (userId) => ((r) => (r ? toTotp(r) : null))(await first(d.rows(`SELECT * FROM ${p}totp WHERE user_id = ?`, [userId]))),
    confirmTotp: async (userId, step) => (await confirm(d, userId, step)) === 1,
    // The UPDATE is the race's referee (a second confirmation waits on the row, then matches nothing), and
    // the codes change only for the winner, in its transaction.
    enableTotp: (userId, step, hashes, now) =>
      transaction(async (tx) => {
        if ((await confirm(tx, userId, step)) !== 1) return false;
        await writeCodes(tx, userId, hashes, now);
        return true;
      }),
    // One conditional UPDATE: the row changes for exactly one of the callers presenting the same step.
    useTotpStep: async (userId, step) =>
      (await d.affected(`UPDATE ${p}totp SET last_step = ? WHERE user_id = ? AND confirmed = ? AND (last_step IS NULL OR last_step < ?)`, [step, userId, true, step])) === 1,
    deleteTotp: async (userId) => (await d.affected(`DELETE FROM ${p}totp WHERE user_id = ?`, [userId])) === 1,
    // Old codes go first: a crash in between leaves none rather than old and new together.
    replaceRecoveryCodes: (userId, hashes, now) => writeCodes(d, userId, hashes, now),
    consumeRecoveryCode: async (userId, hash) => (await d.affected(`DELETE FROM ${p}recovery_codes WHERE user_id = ? AND hash = ?`, [userId, hash])) === 1,
    countRecoveryCodes: async (userId) => Number((await first(d.rows(`SELECT COUNT(*) AS n FROM ${p}recovery_codes WHERE user_id = ?`, [userId])))!.n),
    listRecoveryCodes: async (userId) => (await d.rows(`SELECT hash FROM ${p}recovery_codes WHERE user_id = ? ORDER BY hash`, [userId])).map((r) => String(r.hash)),
    deleteRecoveryCodes: (userId) => d.affected(`DELETE FROM ${p}recovery_codes WHERE user_id = ?`, [userId]),
  };
}

type OAuthVerbs = 'createOAuthClient' | 'updateOAuthClient' | 'findOAuthClient' | 'listOAuthClients' | 'touchOAuthClient' | 'deleteOAuthClient' | 'deleteUnusedOAuthClients'
  | 'saveOAuthConsent' | 'findOAuthConsent' | 'listOAuthConsents' | 'revokeOAuthGrant';
type OAuthTokenVerbs = 'createOAuthToken' | 'findOAuthToken' | 'useOAuthToken' | 'deleteOAuthFamily'
  | 'supersedeOAuthRefresh' | 'listOAuthTokens' | 'deleteExpiredOAuthTokens';

// OAuth (SPEC §11). Foreign keys cascade a deleted client or user to its consents and tokens.
function oauthOps(b: SqlBackend): Ops<OAuthVerbs | OAuthTokenVerbs> {
  const { prefix: p, driver: d } = b;
  const T = `${p}oauth_tokens`;
  const clientOf = async (id: string) => ((r) => (r ? toOAuthClient(r) : null))(await first(d.rows(`SELECT * FROM ${p}oauth_clients WHERE id = ?`, [id])));
  return {
    async createOAuthClient(c) {
      await d.affected(`INSERT INTO ${p}oauth_clients (id, kind, name, redirect_uris, created_at, last_used_at, cached_until) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        c.id, c.kind, c.name, JSON.stringify(c.redirectUris), c.createdAt.getTime(), c.lastUsedAt?.getTime() ?? null, c.cachedUntil?.getTime() ?? null,
      ]);
    },
    updateOAuthClient: async (id, c) =>
      (await d.affected(`UPDATE ${p}oauth_clients SET name = ?, redirect_uris = ?, cached_until = ? WHERE id = ?`, [c.name, JSON.stringify(c.redirectUris), c.cachedUntil?.getTime() ?? null, id])) === 1,
    findOAuthClient: clientOf,
    listOAuthClients: async () => (await d.rows(`SELECT * FROM ${p}oauth_clients ORDER BY created_at, id`)).map(toOAuthClient),
    async touchOAuthClient(id, at) {
      await d.affected(`UPDATE ${p}oauth_clients SET last_used_at = ? WHERE id = ?`, [at.getTime(), id]);
    },
    deleteOAuthClient: async (id) => (await d.affected(`DELETE FROM ${p}oauth_clients WHERE id = ?`, [id])) === 1,
    deleteUnusedOAuthClients: (before) => d.affected(`DELETE FROM ${p}oauth_clients WHERE kind = ? AND last_used_at IS NULL AND created_at < ?`, ['dcr', before.getTime()]),

    async saveOAuthConsent(c) {
      // Delete-then-insert means the same on every dialect; a concurrent twin's insert wins, which is the same consent.
      await d.affected(`DELETE FROM ${p}oauth_consents WHERE user_id = ? AND client_id = ? AND resource = ?`, [c.userId, c.clientId, c.resource]);
      await d.affected(`INSERT INTO ${p}oauth_consents (user_id, client_id, resource, scopes, created_at) VALUES (?, ?, ?, ?, ?)`, [c.userId, c.clientId, c.resource, c.scopes, c.createdAt.getTime()])
        .catch((err: unknown) => { if (!isStoreError(err, 'DUPLICATE')) throw err; });
    },
    findOAuthConsent: async (userId, clientId, resource) =>
      ((r) => (r ? toOAuthConsent(r) : null))(await first(d.rows(`SELECT * FROM ${p}oauth_consents WHERE user_id = ? AND client_id = ? AND resource = ?`, [userId, clientId, resource]))),
    listOAuthConsents: async (userId) =>
      (userId
        ? await d.rows(`SELECT * FROM ${p}oauth_consents WHERE user_id = ? ORDER BY created_at, client_id, resource`, [userId])
        : await d.rows(`SELECT * FROM ${p}oauth_consents ORDER BY created_at, user_id, client_id, resource`)
      ).map(toOAuthConsent),
    async revokeOAuthGrant(userId, clientId) {
      await d.affected(`DELETE FROM ${p}oauth_consents WHERE user_id = ? AND client_id = ?`, [userId, clientId]);
      return d.affected(`DELETE FROM ${T} WHERE user_id = ? AND client_id = ? AND kind <> ?`, [userId, clientId, 'code']);
    },
    ...oauthTokenOps(b),
  };
}

/** Codes, access and refresh tokens: conditional UPDATEs and DELETEs are the referees (types.ts says of what). */
function oauthTokenOps({ prefix: p, driver: d }: SqlBackend): Ops<OAuthTokenVerbs> {
  const T = `${p}oauth_tokens`;
  const liveToken = (hash: string, kind: string, now: Date) =>
    first(d.rows(`SELECT * FROM ${T} WHERE hash = ? AND kind = ? AND expires_at > ?`, [hash, kind, now.getTime()]));
  return {
    async createOAuthToken(t) {
      await d.affected(
        `INSERT INTO ${T} (hash, kind, family, client_id, user_id, resource, scopes, redirect_uri, code_challenge, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [t.hash, t.kind, t.family, t.clientId, t.userId, t.resource, t.scopes, t.redirectUri, t.codeChallenge, t.createdAt.getTime(), t.expiresAt.getTime(), t.usedAt?.getTime() ?? null],
      );
    },
    findOAuthToken: async (hash, kind, now) => ((r) => (r ? toOAuthToken(r) : null))(await liveToken(hash, kind, now)),
    async useOAuthToken(hash, kind, now) {
      // The UPDATE is the race's referee: only one caller moves used_at from NULL.
      const won = await d.affected(`UPDATE ${T} SET used_at = ? WHERE hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?`, [now.getTime(), hash, kind, now.getTime()]);
      const r = await liveToken(hash, kind, now);
      return r ? { token: toOAuthToken(r), first: won === 1 } : null;
    },
    deleteOAuthFamily: (family) => d.affected(`DELETE FROM ${T} WHERE family = ?`, [family]),
    async supersedeOAuthRefresh(spent, keep) {
      const kept = keep.length ? keep : [''];
      const others = `hash NOT IN (${kept.map(() => '?').join(', ')})`;
      const unusedOrAccess = '(kind = ? OR (kind = ? AND used_at IS NULL))';
      await d.affected(`DELETE FROM ${T} WHERE family = ? AND ${unusedOrAccess} AND ${others}`,
        [spent.family, 'access', 'refresh', ...kept]);
      const later = await d.rows(`SELECT hash FROM ${T} WHERE family = ? AND kind = ? AND hash <> ? AND used_at >= ?`,
        [spent.family, 'refresh', spent.hash, spent.usedAt?.getTime() ?? 0]);
      return later.length ? 'replayed' : 'superseded';
    },
    listOAuthTokens: async (userId) =>
      (userId
        ? await d.rows(`SELECT * FROM ${T} WHERE user_id = ? AND kind <> ? ORDER BY created_at, hash`, [userId, 'code'])
        : await d.rows(`SELECT * FROM ${T} WHERE kind <> ? ORDER BY created_at, hash`, ['code'])
      ).map(toOAuthToken),
    deleteExpiredOAuthTokens: (now) => d.affected(`DELETE FROM ${T} WHERE expires_at <= ?`, [now.getTime()]),
  };
}

type DeviceVerbs = 'createDeviceAuthorization' | 'findPendingDeviceAuthorization' | 'decideDeviceAuthorization' | 'pollDeviceAuthorization'
  | 'takeDecidedDeviceAuthorization' | 'deleteExpiredDeviceAuthorizations';

// Device authorizations (RFC 8628). Every change that must have one winner is one conditional statement.
function deviceOps({ prefix: p, driver: d, returning }: SqlBackend): Ops<DeviceVerbs> {
  const T = `${p}device_authorizations`;
  const byDevice = async (hash: string) => ((r) => (r ? toDeviceAuthorization(r) : null))(await first(d.rows(`SELECT * FROM ${T} WHERE device_hash = ?`, [hash])));
  return {
    async createDeviceAuthorization(a) {
      await d.affected(
        `INSERT INTO ${T} (device_hash, user_hash, client_id, scopes, resource, created_at, expires_at, interval_s, last_poll_at, status, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [a.deviceHash, a.userHash, a.clientId, a.scopes, a.resource, a.createdAt.getTime(), a.expiresAt.getTime(), a.intervalSec, a.lastPollAt?.getTime() ?? null, a.status, a.userId],
      );
    },
    findPendingDeviceAuthorization: async (userHash, now) =>
      ((r) => (r ? toDeviceAuthorization(r) : null))(await first(d.rows(`SELECT * FROM ${T} WHERE user_hash = ? AND status = ? AND expires_at > ?`, [userHash, 'pending', now.getTime()]))),
    decideDeviceAuthorization: async (userHash, status, userId, now) =>
      (await d.affected(`UPDATE ${T} SET status = ?, user_id = ? WHERE user_hash = ? AND status = ? AND expires_at > ?`, [status, userId, userHash, 'pending', now.getTime()])) === 1,
    async pollDeviceAuthorization(hash, now) {
      const t = now.getTime();
      // On time when the last poll is at least one interval ago; else the interval grows (RFC 8628 §3.5).
      const onTime = (await d.affected(`UPDATE ${T} SET last_poll_at = ? WHERE device_hash = ? AND (last_poll_at IS NULL OR last_poll_at + interval_s * 1000 <= ?)`, [t, hash, t])) === 1;
      if (!onTime) await d.affected(`UPDATE ${T} SET interval_s = interval_s + 5, last_poll_at = ? WHERE device_hash = ?`, [t, hash]);
      const auth = await byDevice(hash);
      return auth ? { auth, tooFast: !onTime } : null;
    },
    async takeDecidedDeviceAuthorization(hash) {
      const where = `FROM ${T} WHERE device_hash = ? AND status <> ?`;
      if (returning) return ((r) => (r ? toDeviceAuthorization(r) : null))(await first(d.rows(`DELETE ${where} RETURNING *`, [hash, 'pending'])));
      const r = await first(d.rows(`SELECT * ${where}`, [hash, 'pending']));
      return r && (await d.affected(`DELETE ${where}`, [hash, 'pending'])) === 1 ? toDeviceAuthorization(r) : null;
    },
    deleteExpiredDeviceAuthorizations: (now) => d.affected(`DELETE FROM ${T} WHERE expires_at <= ?`, [now.getTime()]),
  };
}

function eventOps({ prefix: p, driver: d }: SqlBackend): Ops<'recordEvent' | 'listEvents' | 'pruneEvents'> {
  const T = `${p}events`;
  return {
    async recordEvent(e) {
      await d.affected(`INSERT INTO ${T} (id, at, event, user_id, email, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        e.id, e.at.getTime(), e.event.slice(0, 64), e.userId, e.email?.slice(0, 320) ?? null, e.ip?.slice(0, 64) ?? null, e.detail?.slice(0, 1000) ?? null,
      ]);
    },
    async listEvents({ limit, offset, user, event }) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (user) {
        where.push('(user_id = ? OR email = ?)');
        values.push(user.id ?? '', user.email);
      }
      if (event) {
        where.push('event = ?');
        values.push(event);
      }
      const sql = `SELECT * FROM ${T}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`;
      return (await d.rows(sql, [...values, limit, offset])).map(toEvent);
    },
    async pruneEvents(before, keep) {
      // The newest `keep` stay: anything at or before the (keep+1)-th newest goes, and anything too old.
      const cut = await first(d.rows(`SELECT at FROM ${T} ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?`, [keep]));
      const bound = Math.max(before.getTime(), cut ? num(cut.at) + 1 : -Infinity);
      return d.affected(`DELETE FROM ${T} WHERE at < ?`, [bound]);
    },
  };
}

const toSigningKey = (r: Row): SigningKeyRecord => ({
  generation: num(r.generation),
  kid: String(r.kid),
  sealed: String(r.sealed),
  createdAt: date(r.created_at),
  signsFrom: date(r.signs_from),
});

// Signing keys and replica heartbeats (architecture.md#access). The primary key on `generation` is the referee
// between replicas adding the same key generation; a heartbeat is an UPDATE, else the first INSERT.
function signingKeyOps({ prefix: p, driver: d }: SqlBackend): Ops<
  'addSigningKey' | 'listSigningKeys' | 'deleteSigningKey' |
  'recordReplica' | 'listReplicas' | 'deleteReplicasSeenBefore'
> {
  return {
    async addSigningKey(k) {
      const columns = 'generation, kid, sealed, created_at, signs_from';
      const insert = `INSERT INTO ${p}signing_keys (${columns}) VALUES (?, ?, ?, ?, ?)`;
      await d.affected(insert, [k.generation, k.kid, k.sealed, k.createdAt.getTime(), k.signsFrom.getTime()]);
    },
    listSigningKeys: async () => (await d.rows(`SELECT * FROM ${p}signing_keys ORDER BY generation`)).map(toSigningKey),
    deleteSigningKey: async (generation) =>
      (await d.affected(`DELETE FROM ${p}signing_keys WHERE generation = ?`, [generation])) === 1,
    async recordReplica({ id, publicUrl, seenAt }) {
      const values = [publicUrl.slice(0, 2048), seenAt.getTime(), id];
      // MySQL counts only changed rows: an UPDATE within the same millisecond says 0, and the INSERT is DUPLICATE.
      if ((await d.affected(`UPDATE ${p}replicas SET public_url = ?, seen_at = ? WHERE id = ?`, values)) === 1) return;
      const insert = `INSERT INTO ${p}replicas (public_url, seen_at, id) VALUES (?, ?, ?)`;
      await d.affected(insert, values).catch((err: unknown) => {
        if (!isStoreError(err, 'DUPLICATE')) throw err;
      });
    },
    listReplicas: async (since) =>
      (await d.rows(`SELECT * FROM ${p}replicas WHERE seen_at >= ? ORDER BY id`, [since.getTime()])).map((r) => ({
        id: String(r.id), publicUrl: String(r.public_url), seenAt: date(r.seen_at),
      })),
    deleteReplicasSeenBefore: (before) => d.affected(`DELETE FROM ${p}replicas WHERE seen_at < ?`, [before.getTime()]),
  };
}

function counterOps({ prefix: p, driver: d, counterColumn: c, hit }: SqlBackend): Ops<'hit' | 'peekCounter' | 'clearCounter'> {
  return {
    hit: (key, windowMs, now) => hit(counterKey(key), windowMs, now),
    async peekCounter(key, now) {
      const r = await first(d.rows(`SELECT count, reset_at FROM ${p}counters WHERE ${c} = ? AND reset_at > ?`, [counterKey(key), now.getTime()]));
      return r ? toCounter(r) : null;
    },
    async clearCounter(key) {
      await d.affected(`DELETE FROM ${p}counters WHERE ${c} = ?`, [counterKey(key)]);
    },
  };
}
