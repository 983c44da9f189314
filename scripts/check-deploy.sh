#!/usr/bin/env bash
# Checks the deployment files as an operator would use them: `nginx -t` on the production site
# and `systemd-analyze verify` on the units, and reports `systemd-analyze security`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# nginx: the production site inside a stock-shaped nginx.conf, the snippets where the site
# expects them (paths rewritten into the scratch dir), a throwaway certificate.
mkdir -p "$work/liteio" "$work/ssl" "$work/logs"
cp "$repo"/nginx/{liteio-http.conf,liteio-locations.conf,fastcgi_params} "$work/liteio/"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=s3.example.com \
    -keyout "$work/ssl/privkey.pem" -out "$work/ssl/fullchain.pem" 2>/dev/null
sed -e "s#/etc/nginx/liteio/#$work/liteio/#g" -e "s#/etc/ssl/liteio/#$work/ssl/#g" \
    -e "s#/var/log/nginx/#$work/logs/#g" "$repo/nginx/production/liteio-site.conf" > "$work/site.conf"
cat > "$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/logs/error.log;
events {}
http {
    client_body_temp_path $work/tmp;
    include $work/site.conf;
}
CONF
nginx -t -p "$work/" -c "$work/nginx.conf" -e "$work/logs/error.log"

# systemd: verify needs ExecStart to exist, so point it at the built binary.
bin=${LITEIO_BIN:-$repo/.build/release/liteio}
[ -x "$bin" ] || { echo "check-deploy: build liteio first ($bin)"; exit 1; }
sed "s#/usr/local/bin/liteio#$bin#" "$repo/systemd/liteio.service" > "$work/liteio.service"
cp "$repo/systemd/liteio.socket" "$work/"
systemd-analyze verify "$work/liteio.socket" "$work/liteio.service"
exposure=$(systemd-analyze security --offline=yes "$work/liteio.service" 2>/dev/null | tail -1)
echo "check-deploy: nginx -t ok; systemd-analyze verify ok; $exposure"
"$bin" --config "$repo/systemd/config.json" config check
