# Shared by up.sh and down.sh; sourced, never run.
# shellcheck shell=bash

# The logic every peer set shares (lock, wait, fingerprint, env file, stop)
# is in ../peers/lib.sh; this file adds what is the provider's.
# shellcheck source=../peers/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../peers" && pwd)/lib.sh"
peers_setup oidcpeer OIDCPEER_RUN /tmp/infino-oidcpeer

HOST=127.0.0.1
PORT=9443          # the provider (https)
API_PORT=9444      # the test's Infino API stand-in (http, 127.0.0.1 only)
ISSUER_PATH=/realms/infino
CLIENT_ID=infino-mailbox
ACCOUNT=anna@kancelaria.test
PID_FILE=$RUN/oidcpeer.pid

peers_ports() { printf '%s %s\n' "$HOST" "$PORT"; }

# peers_stop: TERM the provider this run dir started, wait up to 5 s, then
# KILL.
peers_stop() { peers_kill_pidfile "$PID_FILE" oidc-provider; }
