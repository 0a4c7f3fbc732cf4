#!/usr/bin/env bash
# Stop the mail peers that up.sh started under $MAILPEERS_RUN (default
# /tmp/infino-mailpeers). Keeps the run dir (certs, mail, logs) so the next
# up.sh is quick; pass --purge to delete it too. Packages and the system user
# "mailpeers" stay installed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
peers_down "$@"
