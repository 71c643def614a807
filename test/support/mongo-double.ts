// A MongoDB WIRE-PROTOCOL TEST DOUBLE — not MongoDB. No MongoDB server can be installed on this
// machine, so the real `mongodb` driver is pointed at this small server instead. It speaks OP_MSG
// (and the legacy OP_QUERY handshake) with the `bson` package and evaluates filters, updates and
// pipelines with `mingo`, keeping collections in memory. It implements: hello/isMaster, ping,
// buildInfo, endSessions, killCursors, create, insert, find, getMore, update (operators, pipelines, upsert),
// delete, findAndModify, count, aggregate, createIndexes (unique indexes enforced with error 11000),
// listIndexes, listCollections, drop, dropDatabase. Each command runs to completion on Node's single
// thread, so every command is atomic — which is exactly what it CANNOT prove about a real server:
// WiredTiger concurrency and write conflicts, replica-set elections and failover, real index builds,
// authentication, TLS, read/write concerns, and server-side retries of upserts. Set TEST_MONGODB_URL to
// run the same conformance suite against a real MongoDB.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BSON, Long, type Document } from 'bson';
import { Query, aggregate, find, update as applyUpdate } from 'mingo';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

interface Index {
  name: string;
  key: Record<string, 1 | -1>;
  unique: boolean;
}
interface Collection {
  docs: Document[];
  indexes: Index[];
}

class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface MongoDouble {
  url: string;
  /** Sever every connection and refuse new ones (an outage). */
  cut(): void;
  restore(): void;
  commands: number;
  close(): Promise<void>;
}

export async function startMongoDouble(): Promise<MongoDouble> {
  const dbs = new Map<string, Map<string, Collection>>();
  const sockets = new Set<Socket>();
  let down = false;
  let connectionId = 0;
  let commands = 0;

  const collection = (db: string, name: string, create = true): Collection | undefined => {
    let colls = dbs.get(db);
    if (!colls) {
      if (!create) return undefined;
      dbs.set(db, (colls = new Map()));
    }
    let c = colls.get(name);
    if (!c && create) colls.set(name, (c = { docs: [], indexes: [{ name: '_id_', key: { _id: 1 }, unique: true }] }));
    return c;
  };

  const keyOf = (doc: Document, idx: Index) =>
    JSON.stringify(
      Object.keys(idx.key).map(
        (k) => k.split('.').reduce<unknown>((v, part) => (v as Document | undefined)?.[part], doc) ?? null,
      ),
    );

  /** Throws 11000 when `doc` would break a unique index of `c` (ignoring `self`). */
  function checkUnique(c: Collection, ns: string, doc: Document, self?: Document) {
    for (const idx of c.indexes) {
      if (!idx.unique) continue;
      const k = keyOf(doc, idx);
      if (c.docs.some((other) => other !== self && keyOf(other, idx) === k)) {
        throw new CommandError(
          11000,
          'DuplicateKey',
          `E11000 duplicate key error collection: ${ns} index: ${idx.name} dup key: ${k}`,
        );
      }
    }
  }

  const clone = (d: Document): Document => BSON.deserialize(BSON.serialize(d));

  function upsertBase(filter: Document): Document {
    const base: Document = {};
    for (const [k, v] of Object.entries(filter))
      if (!k.startsWith('$') && (v === null || typeof v !== 'object' || v instanceof Date || Array.isArray(v)))
        base[k] = v;
    return base;
  }

  /** Applies an update document or pipeline to a copy of `doc` and returns the new document. */
  function updated(doc: Document, u: Document | Document[], inserting: boolean): Document {
    if (Array.isArray(u)) return aggregate([clone(doc)], u)[0] as Document;
    const mods = Object.keys(u);
    if (mods.length && !mods[0]!.startsWith('$')) return { _id: doc._id, ...u }; // a replacement
    const next = clone(doc);
    const { $setOnInsert, ...rest } = u as Document & { $setOnInsert?: Document };
    if (Object.keys(rest).length) applyUpdate(next, rest);
    if (inserting && $setOnInsert) applyUpdate(next, { $set: $setOnInsert });
    return next;
  }

  function writeOne(
    c: Collection,
    ns: string,
    filter: Document,
    u: Document | Document[],
    upsert: boolean,
    sort?: Document,
  ) {
    let cursor = find(c.docs, filter);
    if (sort) cursor = cursor.sort(sort);
    const match = cursor.next() as Document | undefined;
    if (match) {
      const next = updated(match, u, false);
      next._id = match._id;
      checkUnique(c, ns, next, match);
      const before = clone(match);
      Object.keys(match).forEach((k) => delete match[k]);
      Object.assign(match, next);
      return { before, after: match, upserted: false as const };
    }
    if (!upsert) return null;
    const doc = updated(upsertBase(filter), u, true);
    doc._id ??= new BSON.ObjectId();
    checkUnique(c, ns, doc);
    c.docs.push(doc);
    return { before: null, after: doc, upserted: true as const };
  }

  const cursorReply = (ns: string, docs: Document[]) => ({
    cursor: { firstBatch: docs, id: Long.fromNumber(0), ns },
    ok: 1,
  });

  function run(body: Document): Document {
    commands++;
    const name = Object.keys(body)[0]!;
    const db = String(body.$db ?? 'admin');
    const collName = String(body[name]);
    const ns = `${db}.${collName}`;
    switch (name.toLowerCase()) {
      case 'hello':
      case 'ismaster':
        return {
          helloOk: true,
          ismaster: true,
          isWritablePrimary: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId: ++connectionId,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false,
          ok: 1,
        };
      case 'ping':
      case 'endsessions':
        return { ok: 1 };
      case 'buildinfo':
        return { version: '7.0.0-double', versionArray: [7, 0, 0, 0], ok: 1 };
      case 'killcursors':
        return { cursorsKilled: body.cursors ?? [], ok: 1 };
      case 'insert': {
        const c = collection(db, collName)!;
        let n = 0;
        for (const [index, d] of (body.documents as Document[]).entries()) {
          const doc = clone(d);
          doc._id ??= new BSON.ObjectId();
          try {
            checkUnique(c, ns, doc);
          } catch (err) {
            const e = err as CommandError;
            return { n, writeErrors: [{ index, code: e.code, errmsg: e.message }], ok: 1 };
          }
          c.docs.push(doc);
          n++;
        }
        return { n, ok: 1 };
      }
      case 'find': {
        const c = collection(db, collName, false);
        let cursor = find(c?.docs ?? [], body.filter ?? {}, body.projection);
        if (body.sort) cursor = cursor.sort(body.sort);
        if (body.skip) cursor = cursor.skip(Number(body.skip));
        if (body.limit) cursor = cursor.limit(Math.abs(Number(body.limit)));
        return cursorReply(ns, (cursor.all() as Document[]).map(clone));
      }
      case 'getmore':
        return { cursor: { nextBatch: [], id: Long.fromNumber(0), ns: `${db}.${body.collection}` }, ok: 1 };
      case 'update': {
        const c = collection(db, collName)!;
        let n = 0;
        let nModified = 0;
        const upserted: Document[] = [];
        for (const [index, spec] of (body.updates as Document[]).entries()) {
          try {
            if (spec.multi) {
              for (const match of find(c.docs, spec.q).all() as Document[]) {
                const next = updated(match, spec.u, false);
                checkUnique(c, ns, next, match);
                Object.keys(match).forEach((k) => delete match[k]);
                Object.assign(match, next);
                n++;
                nModified++;
              }
              continue;
            }
            const r = writeOne(c, ns, spec.q, spec.u, !!spec.upsert);
            if (!r) continue;
            n++;
            if (r.upserted) upserted.push({ index, _id: r.after._id });
            else if (JSON.stringify(r.before) !== JSON.stringify(r.after)) nModified++;
          } catch (err) {
            const e = err as CommandError;
            return { n, nModified, writeErrors: [{ index, code: e.code, errmsg: e.message }], ok: 1 };
          }
        }
        return { n, nModified, ...(upserted.length ? { upserted } : {}), ok: 1 };
      }
      case 'delete': {
        const c = collection(db, collName, false);
        let n = 0;
        for (const spec of body.deletes as Document[]) {
          if (!c) continue;
          const q = new Query(spec.q);
          if (Number(spec.limit) === 1) {
            const i = c.docs.findIndex((d) => q.test(d));
            if (i !== -1) (c.docs.splice(i, 1), n++);
          } else {
            const before = c.docs.length;
            c.docs = c.docs.filter((d) => !q.test(d));
            n += before - c.docs.length;
          }
        }
        return { n, ok: 1 };
      }
      case 'findandmodify': {
        const c = collection(db, collName)!;
        const query = body.query ?? {};
        if (body.remove) {
          let cursor = find(c.docs, query);
          if (body.sort) cursor = cursor.sort(body.sort);
          const match = cursor.next() as Document | undefined;
          if (match) c.docs.splice(c.docs.indexOf(match), 1);
          return { lastErrorObject: { n: match ? 1 : 0 }, value: match ?? null, ok: 1 };
        }
        const r = writeOne(c, ns, query, body.update, !!body.upsert, body.sort);
        if (!r) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
        return {
          lastErrorObject: { n: 1, updatedExisting: !r.upserted, ...(r.upserted ? { upserted: r.after._id } : {}) },
          value: body.new ? clone(r.after) : r.before,
          ok: 1,
        };
      }
      case 'count': {
        const c = collection(db, collName, false);
        return { n: c ? find(c.docs, body.query ?? {}).all().length : 0, ok: 1 };
      }
      case 'aggregate': {
        const c = collection(db, collName, false);
        return cursorReply(ns, aggregate((c?.docs ?? []).map(clone), body.pipeline as Document[]) as Document[]);
      }
      case 'createindexes': {
        const c = collection(db, collName)!;
        const before = c.indexes.length;
        for (const spec of body.indexes as Document[]) {
          if (!c.indexes.some((i) => i.name === spec.name))
            c.indexes.push({ name: String(spec.name), key: spec.key, unique: !!spec.unique });
        }
        return {
          numIndexesBefore: before,
          numIndexesAfter: c.indexes.length,
          createdCollectionAutomatically: false,
          ok: 1,
        };
      }
      case 'listindexes': {
        const c = collection(db, collName, false);
        if (!c) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${ns}`);
        return cursorReply(
          ns,
          c.indexes.map((i) => ({
            v: 2,
            key: i.key,
            name: i.name,
            ...(i.unique && i.name !== '_id_' ? { unique: true } : {}),
          })),
        );
      }
      case 'listcollections':
        return cursorReply(
          `${db}.$cmd.listCollections`,
          [...(dbs.get(db)?.keys() ?? [])].map((n) => ({
            name: n,
            type: 'collection',
            options: {},
            info: { readOnly: false },
          })),
        );
      case 'create': {
        if (dbs.get(db)?.has(collName))
          throw new CommandError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
        collection(db, collName);
        return { ok: 1 };
      }
      case 'drop':
        dbs.get(db)?.delete(collName);
        return { ok: 1 };
      case 'dropdatabase':
        dbs.delete(db);
        return { ok: 1 };
      default:
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }

  function answer(body: Document): Document {
    try {
      return run(body);
    } catch (err) {
      if (err instanceof CommandError) return { ok: 0, code: err.code, codeName: err.codeName, errmsg: err.message };
      return { ok: 0, code: 1, codeName: 'InternalError', errmsg: String((err as Error).message) };
    }
  }

  function reply(socket: Socket, requestId: number, opCode: number, doc: Document) {
    const body = BSON.serialize(doc);
    if (opCode === OP_QUERY) {
      const head = Buffer.alloc(36);
      head.writeInt32LE(36 + body.length, 0);
      head.writeInt32LE(0, 4);
      head.writeInt32LE(requestId, 8);
      head.writeInt32LE(OP_REPLY, 12);
      head.writeInt32LE(0, 16); // responseFlags
      head.writeBigInt64LE(0n, 20); // cursorID
      head.writeInt32LE(0, 28); // startingFrom
      head.writeInt32LE(1, 32); // numberReturned
      socket.write(Buffer.concat([head, body]));
      return;
    }
    const head = Buffer.alloc(21);
    head.writeInt32LE(21 + body.length, 0);
    head.writeInt32LE(0, 4);
    head.writeInt32LE(requestId, 8);
    head.writeInt32LE(OP_MSG, 12);
    head.writeUInt32LE(0, 16); // flagBits
    head.writeUInt8(0, 20); // section kind 0
    socket.write(Buffer.concat([head, body]));
  }

  function handle(socket: Socket, msg: Buffer) {
    const requestId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let at = 20;
      while (msg[at] !== 0) at++; // fullCollectionName
      at += 1 + 8; // NUL, numberToSkip, numberToReturn
      const size = msg.readInt32LE(at);
      return reply(socket, requestId, opCode, answer(BSON.deserialize(msg.subarray(at, at + size))));
    }
    if (opCode !== OP_MSG) return socket.destroy();
    const flags = msg.readUInt32LE(16);
    const end = msg.length - (flags & 1 ? 4 : 0);
    let at = 20;
    let body: Document = {};
    while (at < end) {
      const kind = msg.readUInt8(at++);
      if (kind === 0) {
        const size = msg.readInt32LE(at);
        body = { ...BSON.deserialize(msg.subarray(at, at + size)), ...body };
        at += size;
      } else {
        const size = msg.readInt32LE(at);
        const sectionEnd = at + size;
        let p = at + 4;
        const idStart = p;
        while (msg[p] !== 0) p++;
        const identifier = msg.toString('utf8', idStart, p);
        p++;
        const docs: Document[] = [];
        while (p < sectionEnd) {
          const len = msg.readInt32LE(p);
          docs.push(BSON.deserialize(msg.subarray(p, p + len)));
          p += len;
        }
        body[identifier] = docs;
        at = sectionEnd;
      }
    }
    // Unacknowledged writes (moreToCome, bit 1) get no reply.
    const result = answer(body);
    if (!(flags & 2)) reply(socket, requestId, opCode, result);
  }

  const server: Server = createServer((socket) => {
    if (down) return void socket.destroy();
    sockets.add(socket);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const len = buffered.readInt32LE(0);
        if (buffered.length < len) break;
        const msg = buffered.subarray(0, len);
        buffered = buffered.subarray(len);
        handle(socket, msg);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mongodb://127.0.0.1:${port}/gatehouse_test?directConnection=true`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    get commands() {
      return commands;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
