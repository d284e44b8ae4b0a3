#!/usr/bin/env bash
# The systemd driver's D-Bus costs (bench/systemd-dbus.ts) in the VM lane with systemd as PID 1, and
# on this host the cost of loading tsrun's D-Bus client (src/cgroups/systemd/manager-api.ts and what it
# imports, bundled alone) next to dbus-next's, when $DBUS_NEXT_DIR has an npm install of dbus-next.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p vm/build/bench
npx esbuild --bundle --platform=node --format=esm --target=node20 bench/systemd-dbus.ts --outfile=vm/build/bench/systemd-dbus.mjs --log-level=warning
npx esbuild --bundle --platform=node --format=cjs --target=node20 src/cgroups/systemd/manager-api.ts --outfile=vm/build/bench/dbus-client.cjs --log-level=warning
echo "tsrun's D-Bus client, bundled: $(stat -c %s vm/build/bench/dbus-client.cjs) bytes"
for i in 1 2 3 4 5; do
  node -e 'const t=process.hrtime.bigint(); require(process.argv[1]); console.log("require(tsrun D-Bus client):", (Number(process.hrtime.bigint()-t)/1e6).toFixed(2), "ms")' "$PWD/vm/build/bench/dbus-client.cjs"
done
if [ -n "${DBUS_NEXT_DIR:-}" ]; then
  for i in 1 2 3 4 5; do
    node -e 'const t=process.hrtime.bigint(); require(process.argv[1]); console.log("require(dbus-next):", (Number(process.hrtime.bigint()-t)/1e6).toFixed(2), "ms")' "$DBUS_NEXT_DIR/node_modules/dbus-next"
  done
fi
# Both addresses from one process, the private socket first and again last (warm-up, and drift).
vm/run.sh --systemd --timeout 600 -- bash -c '
  systemctl start --job-mode=ignore-requirements dbus.socket dbus.service && BENCH_SYSTEM_BUS=1 RUNS=${RUNS:-15} node vm/build/bench/systemd-dbus.mjs'
