#!/bin/sh
# Container entrypoint: `serve` (the default) listens on GATEHOUSE_HOST/PORT (0.0.0.0:4180 in the
# image); any other arguments run that gatehouse command (`auth status`, `keys list`, …).
# exec, so Gatehouse replaces this shell and receives SIGTERM directly for a graceful drain.
set -e
GATEHOUSE_BIN="${GATEHOUSE_BIN:-/app/bin/gatehouse.js}"
if [ "$#" -eq 0 ]; then set -- serve; fi
exec node "$GATEHOUSE_BIN" "$@"
