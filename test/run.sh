#!/usr/bin/env bash
# The whole suite: node's own test runner with tsx for TypeScript. The shell expands the file list
# because node 20's --test does not find .ts files by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
# dist/ is current now: say so, or `npm start`'s build-if-stale (which a test runs) would rebuild dist/
# while other test files run the CLI from it.
date -u +%FT%TZ > dist/.build-stamp
# Tests, bench and scripts are type-checked too (no emit), so a change in src that breaks them fails here.
npx tsc -p tsconfig.test.json
# The formatter's check (print width 120): `npm run format` fixes what it names. The layer and shape rules run as
# tests (test/ops/boundaries.test.ts, test/ops/shape.test.ts).
npm run --silent format:check > /dev/null || { npm run --silent format:check; exit 1; }
mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=2 --test-timeout=180000 "${files[@]}"
