#!/usr/bin/env node
// The `gatehouse` binary: runs the compiled CLI (npm install / npm start build it into dist/).
const { runCli } = await import('../dist/cli/main.js');
const io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
};
process.exitCode = await runCli(process.argv.slice(2), io);
