#!/usr/bin/env bash
# Start a real, certified OpenID provider on loopback for the Infino hand-off's
# interop tests (internal/oidcpeer): panva's oidc-provider (server.mjs, the
# version pinned in package-lock.json) set up as Infino's authorization server
# would be — an issuer with a path, over TLS with a CA made here, the public
# client infino-mailbox, PKCE, offline_access, rotation, resource indicators.
# Installs Node.js and npm (Debian packages nodejs npm) when missing and root.
#
# Idempotent: when the provider already runs from this version of the files,
# it only prints the env file's path.
#
#   bash testdata/oidcpeer/up.sh      # then: go test ./...
#   bash testdata/oidcpeer/down.sh
#
# OIDCPEER_RUN (default /tmp/infino-oidcpeer) is the private run dir: the
# installed node_modules (kept while package-lock.json is unchanged, so npm ci
# runs once), certs, log, pid, env.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

ENV_FILE=$RUN/env

fingerprint() {
  cat "$HERE/up.sh" "$HERE/lib.sh" "$HERE/server.mjs" "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1
}
FINGERPRINT=$(fingerprint)
op_lock

if [ -s "$ENV_FILE" ] && [ "$(cat "$RUN/fingerprint" 2>/dev/null)" = "$FINGERPRINT" ] &&
  op_pid_alive "$PID_FILE" && op_port_open "$HOST" "$PORT"; then
  op_log "already running"
  echo "oidcpeer env: $ENV_FILE"
  exit 0
fi

# ---------------------------------------------------------------- install ---
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    op_log "Node.js and npm are needed: sudo apt-get install -y --no-install-recommends nodejs npm"
    exit 1
  fi
  op_log "installing nodejs npm"
  t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -q -o DPkg::Lock::Timeout=120 &&
    apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends nodejs npm; } \
    </dev/null >/tmp/oidcpeer-apt.log 2>&1 ||
    { tail -20 /tmp/oidcpeer-apt.log >&2; op_log "apt-get failed (log: /tmp/oidcpeer-apt.log)"; exit 1; }
  op_log "installed in $((SECONDS - t0)) s"
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  op_log "Node.js $(node --version) is too old for oidc-provider 9 (needs 18 or later)"
  exit 1
fi
# oidc-provider 9 supports Node 22 LTS and later (it warns on older ones);
# tested on 20. Node 18 (Debian 12's own) has WebCrypto's global only
# behind a flag; jose needs it.
NODE_FLAGS=()
if [ "$major" -lt 19 ]; then NODE_FLAGS=(--experimental-global-webcrypto); fi

# Whatever of ours runs (stale or older) is stopped first.
mkdir -p "$RUN/log" "$RUN/app" "$RUN/certs"
op_stop
rm -f "$ENV_FILE" "$RUN/fingerprint"

# npm ci only when the lock file changed: node_modules is kept in the run dir.
APP=$RUN/app
LOCK_SUM=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$APP/lock.sha256" 2>/dev/null)" != "$LOCK_SUM" ] || [ ! -d "$APP/node_modules/oidc-provider" ]; then
  op_log "npm ci (oidc-provider $(sed -n 's/.*"oidc-provider": "\([^"]*\)".*/\1/p' "$HERE/package.json"))"
  t0=$SECONDS
  rm -rf "$APP/node_modules" "$APP/lock.sha256"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$APP/"
  (cd "$APP" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline) </dev/null >"$RUN/log/npm.log" 2>&1 ||
    { tail -20 "$RUN/log/npm.log" >&2; op_log "npm ci failed (log: $RUN/log/npm.log)"; exit 1; }
  echo "$LOCK_SUM" >"$APP/lock.sha256"
  op_log "npm ci took $((SECONDS - t0)) s"
fi
cp "$HERE/server.mjs" "$APP/server.mjs"

# ------------------------------------------------------------ certificates ---
# A private CA and a leaf for 127.0.0.1 and localhost, kept across runs
# (renewed when missing or within 30 days of expiry). Clients trust ca.crt.
C=$RUN/certs
if ! { [ -s "$C/ca.crt" ] && [ -s "$C/server.crt" ] && [ -s "$C/server.key" ] &&
       openssl x509 -checkend 2592000 -noout -in "$C/ca.crt" >/dev/null &&
       openssl x509 -checkend 2592000 -noout -in "$C/server.crt" >/dev/null; }; then
  op_log "creating test CA and server certificate"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
      -keyout "$C/ca.key" -out "$C/ca.crt" -subj "/CN=Infino oidcpeer test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey rsa:2048 -sha256 -nodes \
      -keyout "$C/server.key" -out "$C/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' \
      'subjectAltName=IP:127.0.0.1,DNS:localhost' >"$C/server.ext"
    openssl x509 -req -sha256 -days 3650 -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" \
      -CAcreateserial -extfile "$C/server.ext" -out "$C/server.crt" 2>/dev/null
    rm -f "$C/server.csr" "$C/server.ext"
  )
  chmod 644 "$C/ca.crt" "$C/server.crt"
fi

# ------------------------------------------------------------------ start ---
: >"$RUN/log/oidcpeer.log"
(
  cd "$APP"
  export OIDCPEER_HOST=$HOST OIDCPEER_PORT=$PORT OIDCPEER_PATH=$ISSUER_PATH OIDCPEER_API_PORT=$API_PORT \
    OIDCPEER_CERT=$C/server.crt OIDCPEER_KEY=$C/server.key OIDCPEER_CLIENT_ID=$CLIENT_ID OIDCPEER_USER=$ACCOUNT \
    NODE_ENV=production
  setsid node "${NODE_FLAGS[@]}" server.mjs </dev/null >>"$RUN/log/oidcpeer.log" 2>&1 9>&- &
  echo $! >"$PID_FILE"
)
deadline=$((SECONDS + 20))
until op_port_open "$HOST" "$PORT"; do
  if ! op_pid_alive "$PID_FILE" || [ "$SECONDS" -ge "$deadline" ]; then
    tail -20 "$RUN/log/oidcpeer.log" >&2
    op_stop
    op_log "FAILED: the provider does not answer on $HOST:$PORT"
    exit 1
  fi
  sleep 0.05
done

# ---------------------------------------------------------------- env file ---
cat >"$ENV_FILE.tmp" <<EOF
OIDCPEER_ISSUER=https://$HOST:$PORT$ISSUER_PATH
OIDCPEER_HOST=$HOST
OIDCPEER_PORT=$PORT
OIDCPEER_PATH=$ISSUER_PATH
OIDCPEER_API_PORT=$API_PORT
OIDCPEER_CLIENT_ID=$CLIENT_ID
OIDCPEER_USER=$ACCOUNT
OIDCPEER_CA=$C/ca.crt
OIDCPEER_LOG=$RUN/log/oidcpeer.log
OIDCPEER_RUN=$RUN
EOF
chmod 644 "$ENV_FILE.tmp"
mv -f "$ENV_FILE.tmp" "$ENV_FILE"
echo "$FINGERPRINT" >"$RUN/fingerprint"
op_log "up: oidc-provider $(node -p 'require(process.argv[1]).version' "$APP/node_modules/oidc-provider/package.json") on Node $(node --version), issuer https://$HOST:$PORT$ISSUER_PATH"
echo "oidcpeer env: $ENV_FILE"
