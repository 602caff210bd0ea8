#!/usr/bin/env bash
# Rebuilds the browser client in clients/js and copies its bundle to
# static/gatepass.js, the copy the demo pages load (go generate ./web runs
# this). With --check it writes nothing and fails if the copy differs from a
# fresh build, which is how CI keeps the two in step.
set -euo pipefail
cd "$(dirname "$0")"

client=../clients/js
copy=static/gatepass.js

if [ ! -d "$client/node_modules" ]; then
	(cd "$client" && npm ci --no-audit --no-fund)
fi
(cd "$client" && npm run --silent build)

if [ "${1:-}" != "--check" ]; then
	cp "$client/dist/gatepass.js" "$copy"
	echo "web/$copy updated"
elif cmp -s "$client/dist/gatepass.js" "$copy"; then
	echo "web/$copy matches a fresh build of clients/js"
else
	echo "web/$copy differs from a fresh build of clients/js; run: go generate ./web" >&2
	diff -u "$copy" "$client/dist/gatepass.js" | head -n 40 >&2 || true
	exit 1
fi
