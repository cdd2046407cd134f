#!/bin/sh
# Build kmodlab, then regenerate data/modules/debian-*.json.gz from Debian's kernel packages.
# Arguments are passed to dist/scripts/snapshot/generate.js (see the DOC comment in generate.ts).
set -e
cd "$(dirname "$0")/../.."
npx tsc -p . >/dev/null || true   # errors in unrelated work-in-progress files must not stop us; tsc still emits
exec node dist/scripts/snapshot/generate.js "$@"
