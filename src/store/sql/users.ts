// Users and social identities on the SQL backends.
import { randomUUID } from 'node:crypto';
import { normalGroups, RESERVED_USER_PREFIX } from '../rules.js';
import { toIdentity, toUser, USER_PATCH_COLUMNS } from '../sql-common.js';
import type { IdentityStore, User, UserPatch, UserStore } from '../types.js';
import { first, one, type SqlBackend, type SqlDriver } from './backend.js';

const USER_COLUMNS =
  'id, email, name, role, password_hash, email_verified, disabled, group_names, created_at, updated_at';

/** Gatehouse's own users are no one's account: never listed or counted (store/rules.ts). */
const RESERVED_LIKE = `${RESERVED_USER_PREFIX}%`;

export function userOps({ prefix: p, driver: d, returning }: SqlBackend): UserStore {
  const byId = (id: string) => one(d.rows(`SELECT * FROM ${p}users WHERE id = ?`, [id]), toUser);
  const insert = (u: User) => insertUser(d, p, u);
  return {
    async createUser(input, now) {
      // Built here rather than read back: the row holds exactly these values, and it saves a round trip.
      const user: User = {
        id: randomUUID(),
        email: input.email,
        name: input.name,
        role: input.role,
        passwordHash: input.passwordHash,
        emailVerified: input.emailVerified,
        disabled: false,
        groups: normalGroups(input.groups ?? []),
        createdAt: now,
        updatedAt: now,
      };
      await insert(user);
      return user;
    },
    findUserById: byId,
    findUserByEmail: (email) => one(d.rows(`SELECT * FROM ${p}users WHERE email = ?`, [email]), toUser),
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
      return one(d.rows(`${update} RETURNING *`, values), toUser);
    },
    deleteUser: async (id) => (await d.affected(`DELETE FROM ${p}users WHERE id = ?`, [id])) === 1,
    listUsers: async ({ limit, offset, query }) => {
      const [where, values] = userSearch(query);
      const sql = `SELECT * FROM ${p}users WHERE id NOT LIKE ?${where} ORDER BY created_at, id LIMIT ? OFFSET ?`;
      return (await d.rows(sql, [RESERVED_LIKE, ...values, limit, offset])).map(toUser);
    },
    countUsers: async (query) => {
      const [where, values] = userSearch(query);
      const sql = `SELECT COUNT(*) AS n FROM ${p}users WHERE id NOT LIKE ?${where}`;
      return Number((await first(d.rows(sql, [RESERVED_LIKE, ...values])))!.n);
    },
    importUser: async (u) => void (await insert(u)),
  };
}

function insertUser(d: SqlDriver, p: string, u: User): Promise<number> {
  return d.affected(`INSERT INTO ${p}users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    u.id,
    u.email,
    u.name,
    u.role,
    u.passwordHash,
    u.emailVerified,
    u.disabled,
    normalGroups(u.groups ?? []).join(','),
    u.createdAt.getTime(),
    u.updatedAt.getTime(),
  ]);
}

/** The search condition: email or name contains `query`, any case; `!` escapes LIKE's wildcards on every
 *  dialect. */
function userSearch(query: string | undefined): [string, unknown[]] {
  const q = query?.trim().toLowerCase();
  if (!q) return ['', []];
  const like = `%${q.replace(/[!%_]/g, (ch) => `!${ch}`)}%`;
  return [` AND (LOWER(email) LIKE ? ESCAPE '!' OR LOWER(name) LIKE ? ESCAPE '!')`, [like, like]];
}

export function identityOps({ prefix: p, driver: d }: SqlBackend): IdentityStore {
  const T = `${p}identities`;
  return {
    async linkIdentity(i) {
      await d.affected(
        `INSERT INTO ${T} (issuer, subject, provider, user_id, email, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        [i.issuer, i.subject, i.provider, i.userId, i.email, i.createdAt.getTime()],
      );
    },
    findIdentity: (issuer, subject) =>
      one(d.rows(`SELECT * FROM ${T} WHERE issuer = ? AND subject = ?`, [issuer, subject]), toIdentity),
    listIdentities: async (userId) =>
      (await d.rows(`SELECT * FROM ${T} WHERE user_id = ? ORDER BY created_at, issuer, subject`, [userId])).map(
        toIdentity,
      ),
    unlinkIdentity: async (userId, issuer, subject) =>
      (await d.affected(`DELETE FROM ${T} WHERE user_id = ? AND issuer = ? AND subject = ?`, [
        userId,
        issuer,
        subject,
      ])) === 1,
  };
}
