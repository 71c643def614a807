// Starting Gatehouse for tests: in-process (fast; real sockets) or as the real CLI in a subprocess.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, beforeEach } from 'node:test';
import { freePort } from '../../src/exec-app.js';
import { startGatehouse, type RunningGatehouse, type ServeOptions } from '../../src/main.js';
import { DEFAULT_LIMITS, type LimitRules } from '../../src/security/rate-limit.js';
import { startRecordingUpstream, type RecordingUpstream } from './upstream.js';

/** Functional tests sign up many accounts from one IP; the security suite tests the real limits. */
export const GENEROUS_LIMITS: LimitRules = {
  perIp: Object.fromEntries(
    Object.keys(DEFAULT_LIMITS.perIp).map((k) => [k, { limit: 100_000, windowMs: 60_000 }]),
  ) as LimitRules['perIp'],
  perAccount: {},
};

export const REPO = new URL('../..', import.meta.url).pathname;

export function tempHome(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export interface TestGatehouse extends RunningGatehouse {
  home: string;
  logs: string[];
  audit: RunningGatehouse['audit'];
  auditLines: string[];
  /** The one-time admin setup token printed at start, if any. */
  setupToken: string | null;
  /** Password checks evaluated so far (real and dummy), and real ones only. */
  verifications(): number;
  realVerifications(): number;
  stop(): Promise<void>;
}

/**
 * For a Gatehouse whose port must be known before it starts (an IdP's callback URL names it): picks a
 * free port and starts there, and on a fresh port again if another process took that one meanwhile.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt === 3) throw err;
    }
  }
}

export async function startTestGatehouse(
  overrides: Partial<ServeOptions> & { home?: string } = {},
): Promise<TestGatehouse> {
  const own = overrides.home ? null : tempHome();
  const home = overrides.home ?? own!.home;
  const logs: string[] = [];
  const auditLines: string[] = [];
  const running = await startGatehouse({
    scope: { home, server: 'local', profile: 'main' },
    host: '127.0.0.1',
    port: 0,
    upstream: null,
    demo: false,
    publicUrl: null,
    trustedProxies: [],
    appName: 'Test App',
    prefix: '/auth',
    sessionIdleMs: 7 * 86_400_000,
    sessionAbsoluteMs: 30 * 86_400_000,
    env: {},
    log: (l) => logs.push(l),
    auditLine: (l) => auditLines.push(l),
    limits: GENEROUS_LIMITS,
    ...overrides,
  });
  const setupLine = logs.find((l) => l.includes('setup='));
  return Object.assign(running, {
    home,
    logs,
    auditLines,
    setupToken: setupLine ? /setup=([A-Za-z0-9_-]+)/.exec(setupLine)![1]! : null,
    verifications: () => running.hasher.verifications + running.hasher.dummyVerifications,
    realVerifications: () => running.hasher.verifications,
    async stop() {
      await running.close();
      own?.cleanup();
    },
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `gatehouse` binary (compiled dist/) to completion. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/gatehouse.js'), ...args], {
      env: { ...process.env, ...env },
      cwd: REPO,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `gatehouse serve …` as a subprocess and resolves once it listens. */
export function spawnServe(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/gatehouse.js'), 'serve', '--port', '0', ...args], {
      env: { ...process.env, ...env },
      cwd: REPO,
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          url: m[1]!,
          output: () => out,
          stop: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
}

export interface GatehouseFixtureOptions extends Omit<Partial<ServeOptions>, 'upstream'> {
  home?: string;
  /** true: a recording upstream started for the file (its URL becomes the upstream); a string: that URL. */
  upstream?: boolean | string | null;
  /** Forget what the upstream recorded before each test, so each test sees only its own requests. */
  clearUpstreamEachTest?: boolean;
}

export interface GatehouseFixture {
  /** The running Gatehouse; usable inside tests and hooks registered after withGatehouse(). */
  gh: TestGatehouse;
  /** The recording upstream (with `upstream: true`). */
  upstream: RecordingUpstream;
}

/**
 * The set-up most end-to-end files share: registers before/after hooks that start a recording upstream
 * and an in-process Gatehouse in front of it, and stop both. Call it at the top of a file (or a
 * describe): `const { gh, upstream } = withGatehouse({ upstream: true })`. The two are live stand-ins
 * for objects that only exist once `before` has run, so test bodies read `gh.url` or
 * `upstream.requests` exactly as with the hand-written `let gh; before(…)` they replace.
 * More set-up that needs `gh` goes in a describe's before(): node 20 runs a file's top-level before()
 * hooks at the same time, not one after the other.
 */
export function withGatehouse(opts: GatehouseFixtureOptions = {}): GatehouseFixture {
  const { upstream: wantUpstream, clearUpstreamEachTest, ...overrides } = opts;
  let gh: TestGatehouse | undefined;
  let upstream: RecordingUpstream | undefined;
  before(async () => {
    if (wantUpstream === true) upstream = await startRecordingUpstream();
    const target = wantUpstream === true ? upstream!.url : wantUpstream || null;
    gh = await startTestGatehouse({ ...overrides, upstream: target });
  });
  after(async () => {
    await gh?.stop();
    await upstream?.close();
  });
  if (clearUpstreamEachTest) beforeEach(() => upstream?.clear());
  return {
    gh: live('gh', () => gh),
    upstream: live('upstream', () => (wantUpstream === true ? upstream : undefined)),
  };
}

/**
 * A stand-in that forwards every property read to the object `current()` returns, failing with a
 * sentence (not "cannot read properties of undefined") when it is read before the hook started it.
 */
function live<T extends object>(name: string, current: () => T | undefined): T {
  const target = (): T => {
    const t = current();
    if (!t) throw new Error(`withGatehouse: ${name} is read before its before() hook ran (or it was not asked for)`);
    return t;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const t = target();
      const value: unknown = Reflect.get(t, key, t);
      // Methods run with the real object as `this` (getters such as upstream.connections already do).
      return typeof value === 'function' ? value.bind(t) : value;
    },
    set(_, key, value) {
      return Reflect.set(target(), key, value);
    },
    has(_, key) {
      return Reflect.has(target(), key);
    },
  });
}
