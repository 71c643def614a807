#!/usr/bin/env node
// The `gatehouse` binary: runs the compiled CLI (npm install / npm start build it into dist/).
// Before anything else loads: start-up must not grow V8's young generation (src/young-generation.ts).
(await import('../dist/young-generation.js')).holdYoungGeneration();
const { runCli } = await import('../dist/cli/main.js');
const io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
};
process.exitCode = await runCli(process.argv.slice(2), io);
// A failed command has nothing left worth waiting for: if something it opened (a socket, a timer, a
// child) still holds the event loop a moment later, exit anyway. The grace lets piped output flush;
// the timer is unref'd, so a clean failure exits at once without waiting for it.
if (process.exitCode !== 0) setTimeout(() => process.exit(), 500).unref();
