#!/usr/bin/env bash
# Usage: scripts/dev-certs.sh DIR
# Creates, only where missing, a self-signed dev CA (DIR/ca.pem, DIR/ca.key) and a server certificate
# signed by it (DIR/server.pem, DIR/server.key) for localhost, *.localhost, 127.0.0.1 and ::1.
# Clients trust DIR/ca.pem (curl --cacert, boto3 verify=, AWS CLI ca_bundle) instead of skipping checks.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"
# Private keys must not be readable by others.
umask 077

if [ ! -s ca.pem ] || [ ! -s ca.key ]; then
    rm -f ca.pem ca.key server.pem server.key
    # P-256 keys: fast handshakes, accepted everywhere. The CA carries key usage and key identifiers,
    # which strict verifiers (Python 3.13's VERIFY_X509_STRICT) require.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout ca.key -out ca.pem -days 3650 -subj "/CN=liteio dev CA $(uname -n)" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" 2>/dev/null
    echo "dev-certs: created CA $dir/ca.pem"
fi

# (Re)issue the server certificate if it is missing or was not signed by the current CA.
if [ ! -s server.pem ] || [ ! -s server.key ] \
    || ! openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cat > "$tmp/ext.cnf" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
# *.localhost is for virtual-host-style bucket names (bucket.localhost). Note: OpenSSL-based clients
# do not match a wildcard directly under a single-label name, so prefer path-style addressing.
subjectAltName = DNS:localhost, DNS:*.localhost, IP:127.0.0.1, IP:::1
EXT
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout server.key -out "$tmp/server.csr" -subj "/CN=localhost" 2>/dev/null
    # 825 days: the longest validity that Apple clients accept for a server certificate.
    openssl x509 -req -in "$tmp/server.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -CAserial "$tmp/ca.srl" -days 825 -extfile "$tmp/ext.cnf" -out server.pem 2>/dev/null
    echo "dev-certs: issued $dir/server.pem for localhost, *.localhost, 127.0.0.1, ::1"
fi
# Certificates are public; only the keys stay private.
chmod 644 ca.pem server.pem
