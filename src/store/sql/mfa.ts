// The second factor on the SQL backends: the authenticator app and recovery codes.
import { toTotp } from '../sql-common.js';
import type { MfaStore } from '../types.js';
import { first, one, type SqlBackend, type SqlDriver } from './backend.js';

const LATER_STEP = '(last_step IS NULL OR last_step < ?)';

export function mfaOps({ prefix: p, driver: d, transaction }: SqlBackend): MfaStore {
  const R = `${p}recovery_codes`;
  const confirm = (on: SqlDriver, userId: string, step: number) => confirmTotpRow(on, p, userId, step);
  const writeCodes = (on: SqlDriver, userId: string, hashes: string[], now: Date) =>
    writeRecoveryCodes(on, R, userId, hashes, now);
  return {
    async saveTotp(f) {
      // The primary key on user_id makes the insert fail (DUPLICATE) while a confirmed factor exists.
      await d.affected(`DELETE FROM ${p}totp WHERE user_id = ? AND confirmed = ?`, [f.userId, false]);
      const columns = 'user_id, secret, confirmed, last_step, created_at';
      await d.affected(`INSERT INTO ${p}totp (${columns}) VALUES (?, ?, ?, ?, ?)`, [
        f.userId,
        f.secret,
        f.confirmed,
        f.lastStep,
        f.createdAt.getTime(),
      ]);
    },
    findTotp: (userId) => one(d.rows(`SELECT * FROM ${p}totp WHERE user_id = ?`, [userId]), toTotp),
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
      (await d.affected(`UPDATE ${p}totp SET last_step = ? WHERE user_id = ? AND confirmed = ? AND ${LATER_STEP}`, [
        step,
        userId,
        true,
        step,
      ])) === 1,
    deleteTotp: async (userId) => (await d.affected(`DELETE FROM ${p}totp WHERE user_id = ?`, [userId])) === 1,
    // Old codes go first: a crash in between leaves none rather than old and new together.
    replaceRecoveryCodes: (userId, hashes, now) => writeCodes(d, userId, hashes, now),
    consumeRecoveryCode: async (userId, hash) =>
      (await d.affected(`DELETE FROM ${R} WHERE user_id = ? AND hash = ?`, [userId, hash])) === 1,
    countRecoveryCodes: async (userId) =>
      Number((await first(d.rows(`SELECT COUNT(*) AS n FROM ${R} WHERE user_id = ?`, [userId])))!.n),
    listRecoveryCodes: async (userId) =>
      (await d.rows(`SELECT hash FROM ${R} WHERE user_id = ? ORDER BY hash`, [userId])).map((r) => String(r.hash)),
    deleteRecoveryCodes: (userId) => d.affected(`DELETE FROM ${R} WHERE user_id = ?`, [userId]),
  };
}

/** Confirms an unconfirmed factor at `step`; the affected count says whether this caller did it. */
function confirmTotpRow(on: SqlDriver, prefix: string, userId: string, step: number): Promise<number> {
  return on.affected(`UPDATE ${prefix}totp SET confirmed = ?, last_step = ? WHERE user_id = ? AND confirmed = ?`, [
    true,
    step,
    userId,
    false,
  ]);
}

/** Replaces a user's recovery codes in `table`, old ones first (see replaceRecoveryCodes). */
async function writeRecoveryCodes(on: SqlDriver, table: string, userId: string, hashes: string[], now: Date) {
  await on.affected(`DELETE FROM ${table} WHERE user_id = ?`, [userId]);
  if (!hashes.length) return;
  const rows = hashes.map(() => '(?, ?, ?)').join(', ');
  await on.affected(
    `INSERT INTO ${table} (user_id, hash, created_at) VALUES ${rows}`,
    hashes.flatMap((h) => [userId, h, now.getTime()]),
  );
}
