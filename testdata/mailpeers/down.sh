#!/usr/bin/env bash
# Stop the mail peers that up.sh started under $MAILPEERS_RUN (default
# /tmp/infino-mailpeers). Keeps the run dir (certs, mail, logs) so the next
# up.sh is quick; pass --purge to delete it too. Packages and the system user
# "mailpeers" stay installed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

mp_lock
if [ ! -d "$RUN" ]; then
  mp_log "nothing under $RUN"
  exit 0
fi
rm -f "$RUN/env" "$RUN/fingerprint"
mp_stop
if [ "${1:-}" = --purge ]; then
  rm -rf "$RUN"
  mp_log "stopped; removed $RUN"
else
  mp_log "stopped (run dir kept: $RUN)"
fi
