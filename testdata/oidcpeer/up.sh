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

peers_fingerprint "$HERE/up.sh" "$HERE/lib.sh" "$HERE/server.mjs" "$HERE/package.json" "$HERE/package-lock.json"
peers_lock
peers_exit_if_current "$PID_FILE"

# ---------------------------------------------------------------- install ---
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    peers_log "Node.js and npm are needed: sudo apt-get install -y --no-install-recommends nodejs npm"
    exit 1
  fi
  peers_apt_install nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  peers_log "Node.js $(node --version) is too old for oidc-provider 9 (needs 18 or later)"
  exit 1
fi
# oidc-provider 9 supports Node 22 LTS and later (it warns on older ones);
# tested on 20. Node 18 (Debian 12's own) has WebCrypto's global only
# behind a flag; jose needs it.
NODE_FLAGS=()
if [ "$major" -lt 19 ]; then NODE_FLAGS=(--experimental-global-webcrypto); fi

peers_reset
mkdir -p "$RUN/app"

# npm ci only when the lock file changed: node_modules is kept in the run dir.
APP=$RUN/app
LOCK_SUM=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$APP/lock.sha256" 2>/dev/null)" != "$LOCK_SUM" ] || [ ! -d "$APP/node_modules/oidc-provider" ]; then
  peers_log "npm ci (oidc-provider $(sed -n 's/.*"oidc-provider": "\([^"]*\)".*/\1/p' "$HERE/package.json"))"
  t0=$SECONDS
  rm -rf "$APP/node_modules" "$APP/lock.sha256"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$APP/"
  (cd "$APP" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline) </dev/null >"$RUN/log/npm.log" 2>&1 ||
    { tail -20 "$RUN/log/npm.log" >&2; peers_log "npm ci failed (log: $RUN/log/npm.log)"; exit 1; }
  echo "$LOCK_SUM" >"$APP/lock.sha256"
  peers_log "npm ci took $((SECONDS - t0)) s"
fi
cp "$HERE/server.mjs" "$APP/server.mjs"

# ------------------------------------------------------------ certificates ---
peers_cert "Infino oidcpeer test CA" 127.0.0.1 IP:127.0.0.1,DNS:localhost

# ------------------------------------------------------------------ start ---
(
  cd "$APP"
  export OIDCPEER_HOST=$HOST OIDCPEER_PORT=$PORT OIDCPEER_PATH=$ISSUER_PATH OIDCPEER_API_PORT=$API_PORT \
    OIDCPEER_CERT=$C/server.crt OIDCPEER_KEY=$C/server.key OIDCPEER_CLIENT_ID=$CLIENT_ID OIDCPEER_USER=$ACCOUNT \
    NODE_ENV=production
  setsid node "${NODE_FLAGS[@]}" server.mjs </dev/null >>"$RUN/log/oidcpeer.log" 2>&1 9>&- &
  echo $! >"$PID_FILE"
)
peers_wait 20 "$PID_FILE"

# ---------------------------------------------------------------- env file ---
peers_write_env <<EOF
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
peers_log "up: oidc-provider $(node -p 'require(process.argv[1]).version' "$APP/node_modules/oidc-provider/package.json") on Node $(node --version), issuer https://$HOST:$PORT$ISSUER_PATH"
peers_print_env
