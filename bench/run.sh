#!/usr/bin/env bash
# liteio benchmark: `make bench` or bench/run.sh. BENCH_QUICK=1 for a ~2-minute smoke run.
# Starts its own nginx + liteio stack (and a moto server) on free loopback ports in a temp dir, runs
# every workload next to its reference, prints one markdown table and writes it to
# bench/results/YYYY-MM-DD-<cores>cores.md (…-quick.md for BENCH_QUICK=1). See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

# The caller's AWS settings (AWS_CA_BUNDLE, endpoints, profiles, keys) must not leak into the clients.
for v in $(compgen -e | grep '^AWS_' || true); do unset "$v"; done

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: '$1' not found ($2)" >&2; exit 1; }; }
need python3 "apt-get install -y python3 python3-venv"
need wrk "apt-get install -y wrk"
need nginx "scripts/install-deps.sh runtime"
nginx -V 2>&1 | grep -q -- --with-http_dav_module \
    || echo "bench: this nginx has no WebDAV module: the PUT reference rows will fail" >&2

bin=${LITEIO_BIN:-$repo/.build/release/liteio}
[ -x "$bin" ] || { echo "bench: liteio binary $bin missing (make build)" >&2; exit 1; }

# moto (the reference S3 implementation for the ops/s rows) lives in its own venv, git-ignored.
# A failed install is not fatal: those rows then say "not measured".
venv=${BENCH_MOTO_VENV:-$here/.venv}
export BENCH_MOTO_VENV=$venv
if [ "${BENCH_MOTO:-1}" != 0 ] && [ ! -x "$venv/bin/moto_server" ]; then
    echo "bench: installing moto[server] into $venv" >&2
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'moto[server]'; } >&2 \
        || echo "bench: moto install failed; the moto rows will say not measured" >&2
fi

exec python3 "$here/bench.py" "$@"
