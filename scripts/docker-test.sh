#!/usr/bin/env bash
# Usage: scripts/docker-test.sh        (make docker-test)
# Builds the Docker image and runs the end-to-end suite from the host against a container of it,
# on free loopback ports, exactly like the native run but through the image's own stack.sh.
# Needs a working container engine ($DOCKER, default docker); extra build flags via $DOCKER_BUILD_ARGS
# (e.g. "--build-arg BASE=localhost/debian:bookworm --build-arg SWIFT_IMAGE=...").
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
docker=${DOCKER:-docker}
venv=${LITEIO_VENV:-$repo/.liteio/venv}
tag=${LITEIO_IMAGE:-liteio:e2e}
name=liteio-e2e-$$

if ! "$docker" info >/dev/null 2>&1; then
    echo "docker-test: no usable container engine ('$docker info' failed)." >&2
    echo "Start Docker, or set DOCKER=podman on a host where podman can run containers." >&2
    exit 1
fi
[ -x "$venv/bin/python" ] || "$repo/scripts/venv.sh"

# shellcheck disable=SC2086 # DOCKER_BUILD_ARGS is a list of flags
"$docker" build ${DOCKER_BUILD_ARGS:-} -t "$tag" "$repo"

free_port() {
    "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
https_port=$(free_port)
http_port=$(free_port)
tmp=$(mktemp -d)
cleanup() {
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "docker-test: container log:" >&2
        "$docker" logs --tail 50 "$name" >&2 2>&1 || true
    fi
    "$docker" rm -f "$name" >/dev/null 2>&1 || true
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT

# Container ports 8443 (HTTPS) and 8080 (plain HTTP, for the SSE-C refusal tests).
"$docker" run -d --name "$name" \
    -p "127.0.0.1:$https_port:8443" -p "127.0.0.1:$http_port:8080" \
    "$tag" /opt/liteio/scripts/stack.sh foreground /var/lib/liteio-dev 8443 8080 >/dev/null

# The CA and the keys are made on first start inside the container: copy them out once it answers.
for ((i = 0; i < 120; i++)); do
    if "$docker" cp "$name:/var/lib/liteio-dev/certs/ca.pem" "$tmp/ca.pem" 2>/dev/null \
        && "$docker" cp "$name:/var/lib/liteio-dev/credentials.json" "$tmp/credentials.json" 2>/dev/null \
        && [ "$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --cacert "$tmp/ca.pem" \
            "https://localhost:$https_port/" || true)" != 000 ]; then
        break
    fi
    [ "$("$docker" inspect -f '{{.State.Running}}' "$name")" = true ] || { echo "docker-test: container exited" >&2; exit 1; }
    sleep 0.5
done
[ -s "$tmp/credentials.json" ] || { echo "docker-test: the container never answered" >&2; exit 1; }

cd "$repo"
# shellcheck disable=SC2086 # PYTEST_ARGS is a list of flags
LITEIO_E2E_ENDPOINT=https://localhost:$https_port \
LITEIO_E2E_HTTP_ENDPOINT=http://localhost:$http_port \
LITEIO_E2E_CA=$tmp/ca.pem \
LITEIO_E2E_CREDENTIALS=$tmp/credentials.json \
    "$venv/bin/python" -m pytest -q Tests/e2e ${PYTEST_ARGS:-}
