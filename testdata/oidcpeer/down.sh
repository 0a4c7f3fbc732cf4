#!/usr/bin/env bash
# Stop the OpenID provider that up.sh started under $OIDCPEER_RUN (default
# /tmp/infino-oidcpeer). Keeps the run dir (node_modules, certs, log) so the
# next up.sh is quick; pass --purge to delete it too.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

op_lock
if [ ! -d "$RUN" ]; then
  op_log "nothing under $RUN"
  exit 0
fi
rm -f "$RUN/env" "$RUN/fingerprint"
op_stop
if [ "${1:-}" = --purge ]; then
  rm -rf "$RUN"
  op_log "stopped; removed $RUN"
else
  op_log "stopped (run dir kept: $RUN)"
fi
