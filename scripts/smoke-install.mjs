// Installs a packed Gatehouse the way a newcomer would — `npm install` of the tarball into an empty
// directory, with the Node running this script — and checks that it starts: `gatehouse serve --demo`
// on a free port, /auth/health answers 200, a signed-out page request is sent to sign-in, and it stops
// on SIGTERM. CI runs it on the oldest Node that package.json's `engines` still names, while the
// suite runs on Node 24 (docs/development.md#ci). Plain JavaScript: it runs without a build or tsx.
//   node scripts/smoke-install.mjs gatehouse-login-0.1.0.tgz
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const STARTUP_LIMIT_MS = 60_000; // a generous bound for a loaded 2-core machine, not a measurement
const started = Date.now();

const tarball = process.argv[2] ? resolve(process.argv[2]) : null;
if (!tarball) {
  console.error('usage: node scripts/smoke-install.mjs PACKAGE.tgz');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-smoke-'));
const env = installEnv();

try {
  install();
  await serveAndCheck();
  console.log(
    `smoke: ok — installed and started on Node ${process.version} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
} catch (err) {
  console.error(`smoke: FAILED on Node ${process.version}: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** npm, node-gyp and the `gatehouse` shebang must all find this Node, whichever one CI put first on PATH. */
function installEnv() {
  const e = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  delete e.npm_config_nodedir; // headers of another Node would build better-sqlite3 for the wrong ABI
  for (const name of Object.keys(e)) if (name.startsWith('GATEHOUSE_')) delete e[name];
  return { ...e, GATEHOUSE_HOME: join(dir, 'state') };
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

function install() {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'gatehouse-smoke', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', tarball]);
  // The command the docs give: inside the install, `npx gatehouse` is this package, never a download.
  const version = run('npm', ['exec', '--no', '--', 'gatehouse', '--version']);
  console.log(`smoke: ✓ npm install of ${tarball.split('/').pop()}; gatehouse --version → ${version}`);
}

async function serveAndCheck() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = startServe(port);
    try {
      await until(
        `gatehouse serve on port ${port} to answer /auth/health`,
        server,
        async () => (await get(port, '/auth/health')).status === 200,
      );
      console.log(`smoke: ✓ gatehouse serve --demo answers GET /auth/health → 200 (port ${port})`);
      const page = await get(port, '/', { accept: 'text/html' });
      const to = page.headers.get('location') ?? '';
      if (page.status !== 302 || !to.includes('/auth/sign-in'))
        throw new Error(`signed-out GET / gave ${page.status} ${to}, not a 302 to sign-in`);
      console.log(`smoke: ✓ a signed-out GET / → 302 ${to}`);
      await server.stop();
      console.log('smoke: ✓ stopped on SIGTERM');
      return;
    } catch (err) {
      await server.stop();
      // Another process may take the free port between our check and the server's listen.
      if (!server.output().includes('EADDRINUSE') || attempt === 3)
        throw new Error(`${err.message}\n${server.output()}`);
    }
  }
}

function startServe(port) {
  const bin = join(dir, 'node_modules', 'gatehouse-login', 'bin', 'gatehouse.js');
  const child = spawn(process.execPath, [bin, 'serve', '--demo', '--port', String(port)], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    output: () => output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const end = await exited;
      clearTimeout(kill);
      if (end.signal === 'SIGKILL') throw new Error('gatehouse did not stop within 10 s of SIGTERM');
    },
  };
}

async function until(what, server, check) {
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  for (;;) {
    if (server.exited()) throw new Error(`gatehouse exited before ${what}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function get(port, path, headers = {}) {
  return fetch(`http://127.0.0.1:${port}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}
