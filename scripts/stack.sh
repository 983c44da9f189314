#!/usr/bin/env bash
# shellcheck disable=SC2015 # `[ a ] && [ b ] || die` is meant: both sides are plain tests
# The one script that runs liteio behind nginx: for `make run`, the end-to-end tests and Docker.
#
#   scripts/stack.sh start      STATE_DIR HTTPS_PORT [HTTP_PORT]
#   scripts/stack.sh stop       STATE_DIR
#   scripts/stack.sh foreground STATE_DIR HTTPS_PORT [HTTP_PORT]   (start, wait for Ctrl-C/SIGTERM, stop)
#
# Everything lives under STATE_DIR: certs/ (dev CA + server cert), data/ (objects), run/ (socket, pids,
# nginx temp files), logs/, credentials.json, liteio.json, nginx.conf, aws/ (AWS CLI profile `liteio`).
# `start` prints two `export` lines on stdout (all else goes to stderr), so this works:
#   eval "$(scripts/stack.sh start .liteio 8443)"; aws --profile liteio s3 ls
#
# Environment:
#   LITEIO_BIN      liteio binary (default: .build/release/liteio in the repo)
#   LITEIO_BIND     address nginx listens on (default 127.0.0.1; the Docker image uses 0.0.0.0)
#   LITEIO_WORKERS  liteio worker threads (default 8)
#   LITEIO_ACCESS_KEY / LITEIO_SECRET_KEY   keys to use when credentials.json is first created
#   NGINX           nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
nginx_dir=$repo/nginx
bind=${LITEIO_BIND:-127.0.0.1}
region=${LITEIO_REGION:-us-east-1}

log() { echo "stack: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    sed -n 's/^#   \(scripts\/stack.sh .*\)/usage: \1/p' "$0" >&2
    exit 2
}

# The state path ends up unquoted in nginx.conf and JSON, and in sed replacements: keep it plain.
state_path() {
    local d=$1
    mkdir -p "$d"
    d=$(cd "$d" && pwd)
    case $d in
        *[!A-Za-z0-9/._+@-]*) die "state dir '$d' has characters nginx.conf/JSON would need quoted" ;;
    esac
    echo "$d"
}

check_port() {
    case $1 in
        '' | *[!0-9]*) die "bad port '$1'" ;;
    esac
    [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "bad port '$1'"
}

find_nginx() {
    if [ -n "${NGINX:-}" ]; then
        echo "$NGINX"
    elif command -v nginx >/dev/null 2>&1; then
        command -v nginx
    elif [ -x /usr/sbin/nginx ]; then
        echo /usr/sbin/nginx
    else
        die "nginx not found (scripts/install-deps.sh runtime installs it)"
    fi
}

# True if the pid in FILE is alive and its command line mentions NEEDLE (guards against a stale
# pid file whose number now belongs to an unrelated process).
pid_running() {
    local file=$1 needle=$2 pid cmdline
    # Each step can race with the process exiting (and nginx removing its pid file): quietly false.
    pid=$(cat "$file" 2>/dev/null) || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    cmdline=$({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null) || return 1
    case $cmdline in *"$needle"*) return 0 ;; *) return 1 ;; esac
}

# Waits up to SECONDS for the process of FILE to end; returns 1 if it is still there.
wait_gone() {
    local file=$1 needle=$2 seconds=$3 i
    for ((i = 0; i < seconds * 10; i++)); do
        pid_running "$file" "$needle" || return 0
        sleep 0.1
    done
    return 1
}

# Sends SIG, then TERM, then KILL, each after a grace period. Leaves no process behind.
stop_process() {
    local name=$1 file=$2 needle=$3 sig=$4 grace=$5 pid
    pid_running "$file" "$needle" || { rm -f "$file"; return 0; }
    pid=$(cat "$file")
    log "stopping $name (pid $pid, SIG$sig)"
    kill "-$sig" "$pid" 2>/dev/null || true
    if ! wait_gone "$file" "$needle" "$grace"; then
        log "WARNING: $name did not exit ${grace}s after SIG$sig; sending SIGTERM/SIGKILL"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$file" "$needle" 5; then
            # liteio runs as its own process group (setsid), worker children included: kill them all.
            if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
                kill -KILL -- "-$pid" 2>/dev/null || true
            else
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        wait_gone "$file" "$needle" 5 || log "WARNING: $name (pid $pid) is still running"
    fi
    rm -f "$file"
}

stop_stack() {
    local state=$1
    # nginx first, so no new requests reach liteio while it drains. QUIT = graceful: in-flight
    # requests finish (worker_shutdown_timeout bounds that).
    stop_process nginx "$state/run/nginx.pid" "$state/nginx.conf" QUIT 15
    # liteio stops accepting and drains on SIGTERM; 30 s is plenty for the dev/test stack.
    stop_process liteio "$state/run/liteio.pid" "$state/liteio.json" TERM 30
    rm -f "$state/run/liteio.sock"
}

json_value() { # KEY FILE: first "KEY": "value" in FILE (our own one-user-per-line format)
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}

write_credentials() {
    local file=$1 ak sk
    [ -s "$file" ] && return 0
    # AWS-shaped keys: 20-char access key id, 40-char secret.
    ak=${LITEIO_ACCESS_KEY:-AK$(openssl rand -hex 9 | tr a-f A-F)}
    sk=${LITEIO_SECRET_KEY:-$(openssl rand -base64 30)}
    case $ak$sk in *[\"\\]*) die "access/secret key must not contain quotes or backslashes" ;; esac
    (
        umask 077 # secrets: owner only
        cat > "$file.tmp" <<EOF
{
  "users": [
    {"accessKey": "$ak", "secretKey": "$sk", "displayName": "dev"}
  ]
}
EOF
        mv "$file.tmp" "$file"
    )
    log "created $file (access key $ak)"
}

sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

write_nginx_conf() {
    local state=$1 https_port=$2 http_port=$3 user_line
    if [ "$(id -u)" -eq 0 ]; then
        # As root (CI, Docker), nginx workers would otherwise drop to `nobody`, which can neither
        # traverse a 0700 state dir (pytest's tmp dirs are 0700) nor connect to liteio's socket,
        # whose mode follows liteio's umask. Loosening modes up the whole path is fragile and
        # would open the socket to every local user, so the workers keep root instead: this stack
        # listens on loopback with dev keys only. Production: a dedicated nginx user that shares a
        # group with liteio's socket dir.
        user_line='user root root;'
    else
        user_line='# Not started as root: nginx workers run as the invoking user, like liteio.'
    fi
    local delete_http='/# BEGIN plain-http/,/# END plain-http/d'
    [ -n "$http_port" ] && delete_http='/# BEGIN plain-http/d; /# END plain-http/d'
    sed -e "s|@USER_LINE@|$(sed_escape "$user_line")|g" \
        -e "s|@STATE_DIR@|$(sed_escape "$state")|g" \
        -e "s|@NGINX_DIR@|$(sed_escape "$nginx_dir")|g" \
        -e "s|@BIND@|$(sed_escape "$bind")|g" \
        -e "s|@HTTPS_PORT@|$https_port|g" \
        -e "s|@HTTP_PORT@|$http_port|g" \
        -e "$delete_http" \
        "$nginx_dir/nginx.conf.template" > "$state/nginx.conf.tmp"
    mv "$state/nginx.conf.tmp" "$state/nginx.conf"
    # liteio-locations.conf includes `liteio/fastcgi_params`, relative to nginx.conf's directory.
    ln -sfn "$nginx_dir" "$state/liteio"
}

write_aws_files() {
    local state=$1 https_port=$2 ak sk
    ak=$(json_value accessKey "$state/credentials.json")
    sk=$(json_value secretKey "$state/credentials.json")
    [ -n "$ak" ] && [ -n "$sk" ] || die "no accessKey/secretKey found in $state/credentials.json"
    mkdir -p "$state/aws"
    # Path-style: with a custom endpoint botocore would otherwise use bucket.localhost, which
    # neither resolves everywhere nor matches the *.localhost certificate in OpenSSL clients.
    cat > "$state/aws/config" <<EOF
[profile liteio]
region = $region
endpoint_url = https://localhost:$https_port
ca_bundle = $state/certs/ca.pem
s3 =
    addressing_style = path
EOF
    (
        umask 077
        cat > "$state/aws/credentials" <<EOF
[liteio]
aws_access_key_id = $ak
aws_secret_access_key = $sk
EOF
    )
}

# Prints the tail of the logs and stops whatever was started, then fails.
fail_start() {
    local state=$1
    shift
    log "$*"
    local f
    for f in "$state/logs/liteio.log" "$state/logs/nginx-error.log" "$state/logs/nginx-stderr.log"; do
        [ -s "$f" ] && { log "--- last lines of $f"; tail -n 20 "$f" >&2; }
    done
    stop_stack "$state"
    exit 1
}

cmd_start() {
    [ $# -ge 2 ] && [ $# -le 3 ] || usage
    local state https_port=$2 http_port=${3:-} bin nginx i code connect_ip
    state=$(state_path "$1")
    check_port "$https_port"
    [ -z "$http_port" ] || check_port "$http_port"
    bin=${LITEIO_BIN:-$repo/.build/release/liteio}
    [ -x "$bin" ] || die "liteio binary '$bin' not found or not executable (run: make build)"
    nginx=$(find_nginx)

    if pid_running "$state/run/liteio.pid" "$state/liteio.json" \
        || pid_running "$state/run/nginx.pid" "$state/nginx.conf"; then
        die "a stack is already running in $state (scripts/stack.sh stop $state)"
    fi

    mkdir -p "$state"/{certs,data,run/nginx-tmp,logs,aws}
    "$repo/scripts/dev-certs.sh" "$state/certs" >&2
    write_credentials "$state/credentials.json"
    cat > "$state/liteio.json" <<EOF
{
  "dataDir": "$state/data",
  "listen": "unix:$state/run/liteio.sock",
  "workers": ${LITEIO_WORKERS:-8},
  "credentialsFile": "$state/credentials.json",
  "region": "$region",
  "allowInsecureSSEC": false
}
EOF
    write_nginx_conf "$state" "$https_port" "$http_port"
    write_aws_files "$state" "$https_port"

    # liteio. setsid: its own session, so a Ctrl-C meant for the caller (make run, pytest) doesn't hit
    # it directly; the caller's stop does an orderly shutdown instead. Same pid as $! (no fork).
    rm -f "$state/run/liteio.sock"
    log "starting $bin serve --config $state/liteio.json"
    setsid "$bin" serve --config "$state/liteio.json" \
        < /dev/null >> "$state/logs/liteio.log" 2>&1 &
    echo $! > "$state/run/liteio.pid"
    for ((i = 0; i < 300; i++)); do
        [ -S "$state/run/liteio.sock" ] && break
        kill -0 "$(cat "$state/run/liteio.pid")" 2>/dev/null \
            || fail_start "$state" "liteio exited during start-up"
        sleep 0.1
    done
    [ -S "$state/run/liteio.sock" ] || fail_start "$state" "liteio did not create its socket in 30 s"

    # nginx: -p/-c/-e keep it entirely inside STATE_DIR (-e: even the early error log, which Debian
    # compiles in as stderr / /var/log/nginx). It daemonizes itself and writes run/nginx.pid.
    log "starting nginx on https://$bind:$https_port${http_port:+ and http://$bind:$http_port}"
    "$nginx" -p "$state/" -c "$state/nginx.conf" -e "$state/logs/nginx-error.log" \
        < /dev/null >> "$state/logs/nginx-stderr.log" 2>&1 \
        || fail_start "$state" "nginx failed to start"

    # Ready when the whole chain answers over TLS with the dev CA (any HTTP status will do).
    # --noproxy: a proxy from the environment must not intercept localhost.
    case $bind in 0.0.0.0 | 127.0.0.1 | '::' | '[::]') connect_ip=127.0.0.1 ;; *) connect_ip=$bind ;; esac
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 3 \
            --resolve "localhost:$https_port:$connect_ip" \
            --cacert "$state/certs/ca.pem" "https://localhost:$https_port/" || true)
        [ "$code" != 000 ] && [ -n "$code" ] && break
        sleep 0.1
    done
    [ "$code" != 000 ] && [ -n "$code" ] || fail_start "$state" "https://localhost:$https_port/ does not answer within 30 s"
    [ "$code" != 502 ] || log "WARNING: nginx answers but liteio does not (HTTP 502)"

    log "ready: https://localhost:$https_port/ (HTTP $code), state in $state"
    log "then: aws --profile liteio s3 ls"
    # Environment settings beat the profile's ca_bundle / endpoint_url (some machines set these
    # globally); the tests drop every AWS_* variable, an interactive shell has to be told.
    [ -z "${AWS_CA_BUNDLE:-}" ] \
        || log "NOTE: AWS_CA_BUNDLE is set and overrides the profile's ca_bundle: unset AWS_CA_BUNDLE"
    [ -z "${AWS_ENDPOINT_URL:-}${AWS_ENDPOINT_URL_S3:-}" ] \
        || log "NOTE: AWS_ENDPOINT_URL(_S3) is set and overrides the profile's endpoint_url"
    echo "export AWS_CONFIG_FILE=$state/aws/config"
    echo "export AWS_SHARED_CREDENTIALS_FILE=$state/aws/credentials"
}

cmd_stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || die "no state dir $1"
    stop_stack "$(cd "$1" && pwd)"
}

cmd_foreground() {
    [ $# -ge 2 ] && [ $# -le 3 ] || usage
    local state tail_pid=
    state=$(state_path "$1")
    cmd_start "$@"
    # Show both logs on our stdout (docker logs, make run).
    tail -n 0 -F "$state/logs/liteio.log" "$state/logs/nginx-error.log" 2>/dev/null &
    tail_pid=$!
    # shellcheck disable=SC2064 # expand now: the locals are gone when the trap fires
    trap "log 'signal: stopping'; stop_stack '$state'; kill $tail_pid 2>/dev/null; exit 0" INT TERM
    # `sleep & wait` rather than plain sleep, so a signal is handled at once.
    while pid_running "$state/run/liteio.pid" "$state/liteio.json" \
        && pid_running "$state/run/nginx.pid" "$state/nginx.conf"; do
        sleep 1 &
        wait $! || true
    done
    trap - INT TERM
    log "liteio or nginx exited unexpectedly; stopping the stack"
    stop_stack "$state"
    kill "$tail_pid" 2>/dev/null || true
    exit 1
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    foreground) cmd_foreground "$@" ;;
    *) usage ;;
esac
