#!/usr/bin/env bash
# Usage: scripts/docker-test.sh        (make docker-test [PYTEST_ARGS=...])
# Builds the image from ./Dockerfile and runs the end-to-end suite from the host against nginx +
# liteio running from that image (its binary, its /opt/liteio/scripts/stack.sh, its nginx/ files),
# on free loopback ports. Also runs `nginx -t` inside the image on the config stack.sh generated.
#
# Two ways, picked automatically (LITEIO_DOCKER_MODE=docker|local forces one):
#   docker  a container engine that can run containers ($DOCKER, default docker): `docker build`
#           with the public base and Swift images, `docker run` publishing the ports on 127.0.0.1.
#   local   no such engine, but podman + buildah (apt-get install -y podman buildah debootstrap), as
#           root; nothing is pulled from a container registry:
#           1. localhost/debian:bookworm: `debootstrap --variant=minbase bookworm`, imported with
#              `podman import`; the rootfs tarball is cached in .liteio/docker/ and the image kept in
#              podman's storage (LITEIO_DOCKER_REFRESH=1 rebuilds both);
#           2. `podman build --isolation chroot` with that image as BASE and SWIFT_IMAGE and the host's
#              Swift toolchain mounted read-only (build arg SWIFT_TOOLCHAIN);
#           3. `buildah from` + `buildah run --isolation chroot` on the host network: stack.sh start
#              inside the image's filesystem, the suite from the host, stack.sh stop, `buildah rm`.
# Tests that start their own stacks from the host's .build/release/liteio (files importing own_stack)
# are left out: they would test the host build, not the image. Those needing the stack's data
# directory skip themselves against an external stack.
#
# Environment: LITEIO_IMAGE (tag, default localhost/liteio:e2e), LITEIO_BUILDER_IMAGE (local mode:
# tag of the builder stage, default localhost/liteio-builder:e2e), DOCKER_BUILD_ARGS (extra build
# flags), PYTEST_ARGS (extra pytest flags), LITEIO_DEBIAN_MIRROR (debootstrap mirror URL).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${LITEIO_VENV:-$repo/.liteio/venv}
tag=${LITEIO_IMAGE:-localhost/liteio:e2e}
mode=${LITEIO_DOCKER_MODE:-auto}
docker=${DOCKER:-docker}
state=/var/lib/liteio-dev          # the image's VOLUME and CMD state dir
stack_sh=/opt/liteio/scripts/stack.sh
base_image=localhost/debian:bookworm
builder_tag=${LITEIO_BUILDER_IMAGE:-localhost/liteio-builder:e2e}
label=org.liteio.docker-test=1    # on every layer podman builds here
cache=$repo/.liteio/docker
name=liteio-e2e-$$
started=$SECONDS

log() { echo "docker-test: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
phase() { log "--- $* (t+$((SECONDS - started))s)"; }

# --- which engine ---------------------------------------------------------------------------------
if [ "$mode" = auto ]; then
    if command -v "$docker" >/dev/null 2>&1 && "$docker" info >/dev/null 2>&1; then
        mode=docker
    elif command -v podman >/dev/null 2>&1 && command -v buildah >/dev/null 2>&1; then
        mode=local
    else
        die "no container engine: install Docker, or (Debian, as root) apt-get install -y podman buildah debootstrap"
    fi
fi
case $mode in docker | local) ;; *) die "LITEIO_DOCKER_MODE must be docker, local or auto" ;; esac
log "mode: $mode, image $tag"

[ -x "$venv/bin/python" ] || "$repo/scripts/venv.sh"
free_port() {
    "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
https_port=$(free_port)
http_port=$(free_port)
while [ "$http_port" = "$https_port" ]; do http_port=$(free_port); done
tmp=$(mktemp -d /tmp/liteio-docker-test.XXXXXX)

# State of what has been created, for the cleanup trap.
rootfs=''   # debootstrap target while the base image is being made
c=''        # buildah working container
mnt=''      # its mounted root filesystem
running=''  # docker container name
child=''    # long-running command started by `run`, and its name
child_name=''

# Runs a long command as a child and waits for it, so a SIGTERM/SIGINT to this script is handled at
# once (bash defers traps until a foreground command ends) and the cleanup can stop the child.
run() {
    child_name=${1##*/}
    "$@" &
    child=$!
    local rc=0
    wait "$child" || rc=$?
    child=''
    return "$rc"
}

print_logs() {
    local dir=$1 f
    for f in "$dir/logs/liteio.log" "$dir/logs/nginx-error.log" "$dir/logs/nginx-stderr.log"; do
        [ -s "$f" ] && { log "--- last lines of $state/logs/${f##*/}"; tail -n 30 "$f" >&2; }
    done
    return 0
}

# Stops the stack inside buildah container $1 (if it was started) and removes the container.
remove_buildah_container() {
    local ctr=$1 root
    root=$(buildah mount "$ctr" 2>/dev/null) || root=''
    if [ -n "$root" ] && compgen -G "$root$state/run/*.pid" >/dev/null; then
        buildah run --isolation chroot --network host "$ctr" -- "$stack_sh" stop "$state" \
            || log "WARNING: stack.sh stop failed in $ctr; pids: $(cat "$root$state"/run/*.pid 2>/dev/null | tr '\n' ' ')"
    fi
    buildah umount "$ctr" >/dev/null 2>&1 || true
    buildah rm "$ctr" >/dev/null || log "WARNING: buildah rm $ctr failed"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        log "stopping $child_name (pid $child)"
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ]; then
        log "FAILED (exit $status) after $((SECONDS - started))s"
        [ -n "$mnt" ] && print_logs "$mnt$state"
        [ -n "$running" ] && { log "--- container log:"; "$docker" logs --tail 50 "$running" >&2 2>&1 || true; }
    fi
    if [ -n "$c" ]; then
        log "stopping the stack and removing $c"
        remove_buildah_container "$c"
    fi
    [ -z "$running" ] || "$docker" rm -f "$running" >/dev/null 2>&1 || true
    if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
        # debootstrap mounts proc/sys inside the target: never delete through a mount.
        grep -F " $rootfs/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l || true
        rm -rf --one-file-system "$rootfs"
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Test files that start their own stacks from the host's build instead of using the image's.
cd "$repo"
ignore=()
for f in Tests/e2e/test_*.py; do
    grep -qE '^(from own_stack import|import own_stack)' "$f" && ignore+=("--ignore=$f")
done

run_suite() { # CA CREDENTIALS
    phase "end-to-end suite against https://localhost:$https_port (left out: ${ignore[*]#--ignore=})"
    # shellcheck disable=SC2086 # PYTEST_ARGS is a list of flags
    LITEIO_E2E_ENDPOINT=https://localhost:$https_port \
    LITEIO_E2E_HTTP_ENDPOINT=http://localhost:$http_port \
    LITEIO_E2E_CA=$1 \
    LITEIO_E2E_CREDENTIALS=$2 \
        run "$venv/bin/python" -m pytest -q -rs Tests/e2e "${ignore[@]}" ${PYTEST_ARGS:-}
}

nginx_t_args=(-t -p "$state/" -c "$state/nginx.conf" -e "$state/logs/nginx-error.log")

# --- docker: a real engine ------------------------------------------------------------------------
if [ "$mode" = docker ]; then
    phase "docker build"
    # shellcheck disable=SC2086 # DOCKER_BUILD_ARGS is a list of flags
    run "$docker" build ${DOCKER_BUILD_ARGS:-} -t "$tag" "$repo"
    phase "docker run (ports $https_port, $http_port on 127.0.0.1)"
    running=$name
    "$docker" run -d --name "$name" \
        -p "127.0.0.1:$https_port:8443" -p "127.0.0.1:$http_port:8080" \
        "$tag" "$stack_sh" foreground "$state" 8443 8080 >/dev/null
    # The CA and the keys are made on first start inside the container: copy them out once it answers.
    for ((i = 0; i < 120; i++)); do
        if "$docker" cp "$name:$state/certs/ca.pem" "$tmp/ca.pem" 2>/dev/null \
            && "$docker" cp "$name:$state/credentials.json" "$tmp/credentials.json" 2>/dev/null \
            && [ "$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --cacert "$tmp/ca.pem" \
                "https://localhost:$https_port/" || true)" != 000 ]; then
            break
        fi
        [ "$("$docker" inspect -f '{{.State.Running}}' "$name")" = true ] || die "container exited"
        sleep 0.5
    done
    [ -s "$tmp/credentials.json" ] || die "the container never answered"
    phase "nginx -t inside the container"
    "$docker" exec "$name" nginx "${nginx_t_args[@]}"
    run_suite "$tmp/ca.pem" "$tmp/credentials.json"
    phase "done: all passed"
    exit 0
fi

# --- local: debootstrap + podman build + buildah run ----------------------------------------------
[ "$(id -u)" -eq 0 ] || die "local mode needs root (debootstrap, podman/buildah with chroot isolation)"

# Working containers left by an earlier run that was killed (its pid is gone): stop and remove.
while read -r old; do
    case $old in liteio-e2e-[0-9]*) ;; *) continue ;; esac
    [ "$old" != "$name" ] && kill -0 "${old#liteio-e2e-}" 2>/dev/null && continue
    log "removing $old, left behind by an earlier run"
    remove_buildah_container "$old"
done < <(buildah containers --format '{{.ContainerName}}')

# 1. Base image.
phase "base image $base_image"
tarball=$cache/debian-bookworm-minbase.tar
if [ "${LITEIO_DOCKER_REFRESH:-}" = 1 ]; then
    log "LITEIO_DOCKER_REFRESH=1: rebuilding the base image"
    rm -f "$tarball"
fi
if [ "${LITEIO_DOCKER_REFRESH:-}" != 1 ] && podman image exists "$base_image"; then
    log "$base_image present"
else
    mkdir -p "$cache"
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: apt-get install -y debootstrap"
        rootfs=$(mktemp -d /var/tmp/liteio-rootfs.XXXXXX)
        log "debootstrap --variant=minbase bookworm (≈ 1-2 min; log in $cache/debootstrap.log)"
        # shellcheck disable=SC2086 # an empty mirror means debootstrap's default
        if ! run debootstrap --variant=minbase bookworm "$rootfs" ${LITEIO_DEBIAN_MIRROR:-} \
            > "$cache/debootstrap.log" 2>&1; then
            tail -n 20 "$cache/debootstrap.log" >&2
            die "debootstrap failed (full log: $cache/debootstrap.log)"
        fi
        # Like the official slim image: no package cache, no lists (every RUN does apt-get update).
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        # A bookworm host's apt sources add bookworm-updates and the security archive.
        if grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release && [ -s /etc/apt/sources.list.d/debian.sources ]; then
            cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
            rm -f "$rootfs/etc/apt/sources.list"
        fi
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf --one-file-system "$rootfs"
        rootfs=''
    fi
    log "podman import $tarball"
    podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' "$tarball" "$base_image" >/dev/null
fi

# 2. Image, compiled with the host's toolchain mounted into the builder stage.
swift_bin=$(command -v swift 2>/dev/null || true)
[ -n "$swift_bin" ] || [ ! -x /opt/swift/usr/bin/swift ] || swift_bin=/opt/swift/usr/bin/swift
[ -n "$swift_bin" ] || die "no Swift toolchain on this host (swift not on PATH, no /opt/swift)"
toolchain=$(dirname "$(dirname "$(readlink -f "$swift_bin")")")
phase "podman build (toolchain $toolchain)"
# --format docker keeps HEALTHCHECK (OCI has none); --jobs 2 builds the two stages side by side.
# The label marks every layer of these builds, for the prune below.
build=(podman build --isolation chroot --format docker --jobs 2 --label "$label"
    -v "$toolchain:$toolchain:ro"
    --build-arg BASE="$base_image" --build-arg SWIFT_IMAGE="$base_image"
    --build-arg SWIFT_TOOLCHAIN="$toolchain")
# shellcheck disable=SC2086 # DOCKER_BUILD_ARGS is a list of flags
run "${build[@]}" ${DOCKER_BUILD_ARGS:-} -t "$tag" "$repo"
# Tag the builder stage too (all cached, a second or two): it holds the compiled binary, and
# untagged it would be pruned and the next run would recompile even with no source change.
# shellcheck disable=SC2086
run "${build[@]}" ${DOCKER_BUILD_ARGS:-} --target builder -t "$builder_tag" "$repo" >/dev/null
# Earlier builds' images, now untagged (each source change leaves ~150 MB): only ours, by label.
podman image prune -f --filter "label=$label" >/dev/null

# 3. Run the image's contents.
phase "buildah run: $stack_sh start $state $https_port $http_port"
c=$(buildah from --name "$name" "$tag")
# The image declares $state a VOLUME; buildah would keep it outside the container's root, and the
# CA and keys are read through `buildah mount` below, so here it is a plain directory of the image.
buildah config --volume "$state-" "$c"
mnt=$(buildah mount "$c")
# Host network: nginx listens on the host's loopback (not the image's 0.0.0.0 default).
buildah run --isolation chroot --network host --env LITEIO_BIND=127.0.0.1 "$c" -- \
    "$stack_sh" start "$state" "$https_port" "$http_port" >/dev/null

phase "nginx -t inside the image ($state/nginx.conf from /opt/liteio/nginx)"
buildah run --isolation chroot --network host "$c" -- nginx "${nginx_t_args[@]}"

cp "$mnt$state/certs/ca.pem" "$tmp/ca.pem"
cp "$mnt$state/credentials.json" "$tmp/credentials.json"
run_suite "$tmp/ca.pem" "$tmp/credentials.json"

phase "stopping the stack"
buildah run --isolation chroot --network host "$c" -- "$stack_sh" stop "$state"
buildah umount "$c" >/dev/null
buildah rm "$c" >/dev/null
c=''
mnt=''
phase "done: all passed"
