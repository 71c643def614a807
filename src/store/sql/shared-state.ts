// Rate-limit counters, assertion signing keys and replica heartbeats on the SQL backends: what every
// replica on one store shares.
import { counterKey } from '../rules.js';
import { date, num, toCounter, type Row } from '../sql-common.js';
import { isStoreError, type CounterStore, type SigningKeyRecord, type SigningKeyStore } from '../types.js';
import { first, type SqlBackend } from './backend.js';

const toSigningKey = (r: Row): SigningKeyRecord => ({
  generation: num(r.generation),
  kid: String(r.kid),
  sealed: String(r.sealed),
  createdAt: date(r.created_at),
  signsFrom: date(r.signs_from),
});

// Signing keys and replica heartbeats (architecture.md#access). The primary key on `generation` is the referee
// between replicas adding the same key generation; a heartbeat is an UPDATE, else the first INSERT.
export function signingKeyOps({ prefix: p, driver: d }: SqlBackend): SigningKeyStore {
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
        id: String(r.id),
        publicUrl: String(r.public_url),
        seenAt: date(r.seen_at),
      })),
    deleteReplicasSeenBefore: (before) => d.affected(`DELETE FROM ${p}replicas WHERE seen_at < ?`, [before.getTime()]),
  };
}

export function counterOps({ prefix: p, driver: d, counterColumn: c, hit }: SqlBackend): CounterStore {
  return {
    hit: (key, windowMs, now) => hit(counterKey(key), windowMs, now),
    async peekCounter(key, now) {
      const sql = `SELECT count, reset_at FROM ${p}counters WHERE ${c} = ? AND reset_at > ?`;
      const r = await first(d.rows(sql, [counterKey(key), now.getTime()]));
      return r ? toCounter(r) : null;
    },
    async clearCounter(key) {
      await d.affected(`DELETE FROM ${p}counters WHERE ${c} = ?`, [counterKey(key)]);
    },
  };
}
