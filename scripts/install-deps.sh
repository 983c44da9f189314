#!/usr/bin/env bash
# Usage: scripts/install-deps.sh [all|build|runtime|test|docker]     (default: all)
# Installs the Debian packages liteio needs, and only those that are missing, so it is cheap to run
# before every build or test (no apt-get update when nothing is missing).
#   build    C libraries + tools to compile liteio (Swift itself must already be installed)
#   runtime  what `scripts/stack.sh` needs to run liteio behind nginx (used by the Docker image too)
#   test     Python venv support for the end-to-end tests, systemd-analyze
#   docker   podman, buildah and debootstrap for `make docker-test` without a Docker engine
set -euo pipefail

mode=${1:-all}
# libxml2 + libstdc++6: FoundationXML and the C++ runtime stay dynamic even with --static-swift-stdlib.
runtime_pkgs=(nginx libfcgi0ldbl libssl3 libxml2 libstdc++6 openssl curl ca-certificates attr)
build_pkgs=(libfcgi-dev libssl-dev pkg-config make)
# systemd: systemd-analyze checks the units (make check-deploy); no init system is started.
test_pkgs=(python3 python3-venv systemd)
docker_pkgs=(podman buildah debootstrap)

case $mode in
    runtime) want=("${runtime_pkgs[@]}") ;;
    build)   want=("${build_pkgs[@]}" "${runtime_pkgs[@]}") ;;
    test)    want=("${test_pkgs[@]}" "${runtime_pkgs[@]}") ;;
    docker)  want=("${docker_pkgs[@]}") ;;
    all)     want=("${build_pkgs[@]}" "${runtime_pkgs[@]}" "${test_pkgs[@]}") ;;
    *) echo "usage: $0 [all|build|runtime|test|docker]" >&2; exit 2 ;;
esac

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${want[@]}"; do
    installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-deps: not root and no sudo; run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    # No recommends: keeps the Docker image small and avoids pulling a desktop's worth of extras.
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Installing Debian's nginx package may start the system nginx on port 80 (on hosts with an init
# system). liteio never uses it; its own instance runs from scripts/stack.sh with a private config.

if [ "$mode" = build ] || [ "$mode" = all ]; then
    if command -v swift >/dev/null 2>&1; then
        :
    elif [ -x /opt/swift/usr/bin/swift ]; then
        echo "install-deps: swift is installed at /opt/swift but not on PATH; add it:" >&2
        echo "    export PATH=/opt/swift/usr/bin:\$PATH" >&2
        echo "(the Makefile and .ci/run add it themselves)" >&2
    else
        echo "install-deps: no Swift toolchain found (swift not on PATH, no /opt/swift)." >&2
        echo "Install Swift 6.x for Linux; it is not a Debian package." >&2
        exit 1
    fi
fi
echo "install-deps: $mode dependencies present"
