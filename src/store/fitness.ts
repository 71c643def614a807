// The `gatehouse auth enable` fitness check: can Gatehouse really keep its users in this database?
// Connect, create a scratch table, write, read, clean up — one verdict per step, with a hint a person
// can act on. The password never appears in what is printed.
import { closeSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { storeKindOf } from './open.js';
import { loadDriver } from './drivers.js';

export type FitnessStep = 'connect' | 'create table' | 'write' | 'read' | 'clean up';

export interface FitnessResult {
  ok: boolean;
  steps: Array<{ step: FitnessStep; ok: boolean; detail?: string; hint?: string }>;
}

interface Probe {
  connect(): Promise<void>;
  createTable(name: string): Promise<void>;
  write(name: string, value: string): Promise<void>;
  read(name: string): Promise<string | null>;
  drop(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Where the URL points, without credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const DEFAULT_PORTS: Record<string, string> = {
  postgres: '5432',
  postgresql: '5432',
  mysql: '3306',
  mariadb: '3306',
  mongodb: '27017',
};

function hintFor(err: unknown, url: URL, step: FitnessStep): string {
  const e = err as { code?: string | number; errno?: number; message?: string };
  const code = String(e.code ?? '');
  const where = `${url.hostname}:${url.port || DEFAULT_PORTS[url.protocol.slice(0, -1)] || '(default port)'}`;
  if (code === '28P01' || code === '28000' || e.errno === 1045 || code === 'ER_ACCESS_DENIED_ERROR' || code === '18')
    return 'wrong user name or password?';
  if (code === '3D000' || e.errno === 1049 || code === 'ER_BAD_DB_ERROR')
    return `the database "${url.pathname.slice(1)}" does not exist: create it first`;
  if (
    code === '42501' ||
    e.errno === 1142 ||
    e.errno === 1044 ||
    code === 'ER_TABLEACCESS_DENIED_ERROR' ||
    code === '13'
  ) {
    // The scratch table is the user's own, so a refusal while dropping it means DROP, not CREATE, is missing.
    const what = step === 'clean up' ? 'DROP' : 'CREATE';
    return `the user has no ${what} permission: grant it, or bind a user that has it`;
  }
  // pg reports a connect timeout as "timeout expired" / "…due to connection timeout", with no code.
  if (
    code === 'ECONNREFUSED' ||
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH' ||
    /ECONNREFUSED|timed out|timeout|Server selection/i.test(e.message ?? '')
  ) {
    return `is the server running and reachable at ${where}?`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name "${url.hostname}" does not resolve`;
  if (
    /^SQLITE_(CANTOPEN|READONLY|FULL|IOERR|PERM)/.test(code) ||
    ['EACCES', 'EROFS', 'ENOSPC', 'EISDIR', 'EPERM', 'EDQUOT'].includes(code) ||
    /unable to open database|readonly database|disk is full/i.test(e.message ?? '')
  ) {
    return 'is GATEHOUSE_HOME writable, and is there room on its disk?';
  }
  return 'see the message above';
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The first line of an error, with the URL's password (either spelling) replaced by ****. */
export function detailOf(err: unknown, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ((err as Error).message ?? String(err)).split('\n')[0]!.slice(0, 200);
  }
  let message = (err as Error).message ?? String(err);
  // Drivers may echo either spelling of the password (e.g. in a connection string); redact both.
  for (const secret of new Set([u.password, safeDecode(u.password)]))
    if (secret) message = message.split(secret).join('****');
  return message.split('\n')[0]!.slice(0, 200);
}

function probeFor(url: string, timeoutMs: number): Promise<Probe> {
  switch (storeKindOf(url)) {
    case 'postgres':
      return postgresProbe(url, timeoutMs);
    case 'mysql':
      return mysqlProbe(url, timeoutMs);
    case 'mongodb':
      return mongodbProbe(url, timeoutMs);
    case 'sqlite':
      return sqliteProbe(url, timeoutMs);
  }
}

async function postgresProbe(url: string, timeoutMs: number): Promise<Probe> {
  const pg = (await loadDriver('postgres', () => import('pg'))).default;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  return {
    connect: async () => void (await client.connect()),
    createTable: async (t) => void (await client.query(`CREATE TABLE ${t} (k TEXT PRIMARY KEY, v TEXT NOT NULL)`)),
    write: async (t, v) => void (await client.query(`INSERT INTO ${t} (k, v) VALUES ('probe', $1)`, [v])),
    read: async (t) =>
      ((await client.query(`SELECT v FROM ${t} WHERE k = 'probe'`)).rows[0] as { v: string } | undefined)?.v ?? null,
    drop: async (t) => void (await client.query(`DROP TABLE IF EXISTS ${t}`)),
    close: () => client.end().catch(() => {}),
  };
}

async function mysqlProbe(url: string, timeoutMs: number): Promise<Probe> {
  const mysql = (await loadDriver('mysql', () => import('mysql2/promise'))).default;
  let conn: import('mysql2/promise').Connection | undefined;
  return {
    connect: async () => {
      conn = await mysql.createConnection({ uri: url.replace(/^mariadb:/, 'mysql:'), connectTimeout: timeoutMs });
      conn.on('error', () => {});
    },
    createTable: async (t) =>
      void (await conn!.query(`CREATE TABLE ${t} (k VARCHAR(16) PRIMARY KEY, v TEXT NOT NULL)`)),
    write: async (t, v) => void (await conn!.query(`INSERT INTO ${t} (k, v) VALUES ('probe', ?)`, [v])),
    read: async (t) =>
      ((await conn!.query(`SELECT v FROM ${t} WHERE k = 'probe'`))[0] as Array<{ v: string }>)[0]?.v ?? null,
    drop: async (t) => void (await conn!.query(`DROP TABLE IF EXISTS ${t}`)),
    close: async () => void (await conn?.end().catch(() => {})),
  };
}

async function mongodbProbe(url: string, timeoutMs: number): Promise<Probe> {
  const { MongoClient } = await loadDriver('mongodb', () => import('mongodb'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  const db = client.db();
  return {
    connect: async () => {
      await client.connect();
      await db.command({ ping: 1 });
    },
    createTable: async (t) => void (await db.createCollection(t)),
    write: async (t, v) => void (await db.collection(t).insertOne({ _id: 'probe' as never, v })),
    read: async (t) =>
      ((await db.collection(t).findOne({ _id: 'probe' as never })) as { v?: string } | null)?.v ?? null,
    drop: async (t) =>
      void (await db
        .collection(t)
        .drop()
        .catch(() => false)),
    close: () => client.close().catch(() => {}),
  };
}

/** The embedded store gets the same steps: a read-only or full GATEHOUSE_HOME fails here, before anything is
 *  enabled, instead of at the first sign-up. */
async function sqliteProbe(url: string, timeoutMs: number): Promise<Probe> {
  const Database = (await import('better-sqlite3')).default;
  const file = url.slice('sqlite:'.length);
  let db: import('better-sqlite3').Database | undefined;
  return {
    connect: async () => {
      closeSync(openSync(file, 'a', 0o600)); // created private, as the store itself creates it
      db = new Database(file, { timeout: timeoutMs });
    },
    createTable: async (t) => void db!.exec(`CREATE TABLE ${t} (k TEXT PRIMARY KEY, v TEXT NOT NULL)`),
    write: async (t, v) => void db!.prepare(`INSERT INTO ${t} (k, v) VALUES ('probe', ?)`).run(v),
    read: async (t) =>
      (db!.prepare(`SELECT v FROM ${t} WHERE k = 'probe'`).get() as { v: string } | undefined)?.v ?? null,
    drop: async (t) => void db!.exec(`DROP TABLE IF EXISTS ${t}`),
    close: async () => void db?.close(),
  };
}

export async function checkFitness(url: string, opts: { timeoutMs?: number } = {}): Promise<FitnessResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return failedToConnect('not a valid URL', 'a URL such as postgres://user:pass@host:5432/db');
  }
  let probe: Probe;
  try {
    probe = await probeFor(url, opts.timeoutMs ?? 5000);
  } catch (err) {
    return failedToConnect(detailOf(err, url), 'unsupported database URL');
  }
  return runProbe(probe, (step, err) => ({
    step,
    ok: false,
    detail: detailOf(err, url),
    hint: hintFor(err, parsed, step),
  }));
}

/** A check that stopped before it could try to connect. */
function failedToConnect(detail: string, hint: string): FitnessResult {
  return { ok: false, steps: [{ step: 'connect', ok: false, detail, hint }] };
}

type StepResult = FitnessResult['steps'][number];

/** Connects, creates a throwaway table, writes, reads back and drops it, recording each step; whatever
 *  happens, the table is dropped and the connection closed. */
async function runProbe(
  probe: Probe,
  failure: (step: FitnessStep, err: unknown) => StepResult,
): Promise<FitnessResult> {
  const steps: StepResult[] = [];
  const table = `gatehouse_fitness_${randomBytes(4).toString('hex')}`;
  const value = randomBytes(8).toString('hex');
  const attempt = async (step: FitnessStep, fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      steps.push({ step, ok: true });
      return true;
    } catch (err) {
      steps.push(failure(step, err));
      return false;
    }
  };
  let created = false;
  try {
    if (!(await attempt('connect', () => probe.connect()))) return { ok: false, steps };
    const create = async () => {
      await probe.createTable(table);
      created = true;
    };
    if (!(await attempt('create table', create))) return { ok: false, steps };
    const wrote = await attempt('write', () => probe.write(table, value));
    const read =
      wrote &&
      (await attempt('read', async () => {
        const got = await probe.read(table);
        if (got !== value) throw new Error(`read back ${JSON.stringify(got)} instead of what was written`);
      }));
    const cleaned = await attempt('clean up', async () => {
      await probe.drop(table);
      created = false;
    });
    return { ok: wrote && read && cleaned, steps };
  } finally {
    if (created) await probe.drop(table).catch(() => {});
    await probe.close();
  }
}
