// Recent security events on the SQL backends.
import { num, toEvent } from '../sql-common.js';
import type { EventStore } from '../types.js';
import { first, type SqlBackend } from './backend.js';

export function eventOps({ prefix: p, driver: d }: SqlBackend): EventStore {
  const T = `${p}events`;
  return {
    async recordEvent(e) {
      await d.affected(`INSERT INTO ${T} (id, at, event, user_id, email, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        e.id,
        e.at.getTime(),
        e.event.slice(0, 64),
        e.userId,
        e.email?.slice(0, 320) ?? null,
        e.ip?.slice(0, 64) ?? null,
        e.detail?.slice(0, 1000) ?? null,
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
      const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
      const sql = `SELECT * FROM ${T}${filter} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`;
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
