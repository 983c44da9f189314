#!/usr/bin/env bash
# Usage: scripts/venv.sh
# Creates the Python venv for the end-to-end tests (boto3, AWS CLI, pytest) at $LITEIO_VENV
# (default: .liteio/venv in the repo). Reinstalls only when Tests/e2e/requirements.txt changed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${LITEIO_VENV:-$repo/.liteio/venv}
req=$repo/Tests/e2e/requirements.txt
python=${PYTHON:-python3}
stamp=$venv/.liteio-requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && [ -x "$venv/bin/aws" ] && [ -f "$stamp" ] \
    && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c 'import boto3, pytest' 2>/dev/null; then
    echo "venv: $venv up to date"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    # A venv without pip (Debian's python3 lacking python3-venv) fails here with a clear message.
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q -r "$req"
echo "$want" > "$stamp"
echo "venv: $venv ready ($("$venv/bin/aws" --version 2>&1))"
