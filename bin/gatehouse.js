#!/usr/bin/env node
// The `gatehouse` binary: runs the compiled CLI (npm install / npm start build it into dist/).
const { runCli } = await import('../dist/cli/main.js');
const io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
};
const code = await runCli(process.argv.slice(2), io);
// A failed command has nothing left worth waiting for: exit now, even if something it opened (a
// socket, a timer, a child) would keep the event loop alive. Success ends when the loop drains.
if (code !== 0) process.exit(code);
process.exitCode = code;
