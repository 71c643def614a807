// A real nginx and a real Caddy (Debian packages), started on loopback with the configs from
// docs/forward-auth.md — the very blocks the documentation shows, with ports substituted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/exec-app.js';
import { REPO } from './gatehouse.js';

export interface RunningProxy {
  url: string;
  log(): string;
  stop(): Promise<void>;
}

export const hasBinary = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

/** The fenced block of `lang` in docs/forward-auth.md, with the documented ports replaced. */
export function documentedConfig(
  lang: 'nginx' | 'caddyfile' | 'yaml',
  ports: { gatehouse: number; app: number },
): string {
  const doc = readFileSync(join(REPO, 'docs/forward-auth.md'), 'utf8');
  const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc)?.[1];
  if (!block) throw new Error(`no ${lang} block in docs/forward-auth.md`);
  return block
    .replaceAll('127.0.0.1:4180', `127.0.0.1:${ports.gatehouse}`)
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${ports.app}`);
}

async function waitUntilListening(url: string, child: ChildProcess, log: () => string) {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`proxy exited (${child.exitCode}):\n${log()}`);
    try {
      await fetch(url + '/auth/health');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`proxy did not listen:\n${log()}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, dir: string, url: string): Promise<RunningProxy> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const log = () => out;
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  return waitUntilListening(url, child, log).then(
    () => ({ url, log, stop }),
    async (err) => {
      await stop();
      throw err;
    },
  );
}

export async function startNginx(ports: { gatehouse: number; app: number }): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-nginx-'));
  const port = await freePort();
  const server = documentedConfig('nginx', ports).replace('listen 80;', `listen 127.0.0.1:${port};`);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log notice; user root;
events { worker_connections 256; }
http {
  access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
${server}
}
`,
  );
  return run('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], process.env, dir, `http://127.0.0.1:${port}`);
}

export async function startCaddy(ports: { gatehouse: number; app: number }): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-caddy-'));
  const port = await freePort();
  const site = documentedConfig('caddyfile', ports).replace('app.example.com {', `:${port} {\n    bind 127.0.0.1`);
  writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n}\n\n${site}`);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  return run(
    'caddy',
    ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    env,
    dir,
    `http://127.0.0.1:${port}`,
  );
}
