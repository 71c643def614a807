// Secrets at rest: AES-256-GCM under a 32-byte master key, kept in a 0600 key file beside the state or
// given as GATEHOUSE_MASTER_KEY (base64 or hex of 32 bytes). Sealed values look like "enc:v1:<b64url>".
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHome } from './files.js';

const PREFIX = 'enc:v1:';

export function seal(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function unseal(sealed: string, key: Buffer): string {
  if (!sealed.startsWith(PREFIX)) throw new Error('value is not sealed');
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** The master key from the environment, else from `<home>/master.key`, created (0600) on first use. */
export function loadMasterKey(home: string, env: NodeJS.ProcessEnv): Buffer {
  const fromEnv = env.GATEHOUSE_MASTER_KEY?.trim();
  if (fromEnv) return parseKey(fromEnv, 'GATEHOUSE_MASTER_KEY');
  const file = join(home, 'master.key');
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8').trim(), file);
  // Create-if-absent, atomically: `serve` and a CLI command started together on a fresh home must not
  // each write a key of their own (the loser's sealed values would never open again). link() fails
  // when the file exists, so exactly one key is ever written and everyone reads that one.
  ensureHome(home);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return parseKey(readFileSync(file, 'utf8').trim(), file);
}

export function parseKey(text: string, where: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${where} must hold 32 bytes (base64 or hex)`);
  return key;
}
