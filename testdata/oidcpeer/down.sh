#!/usr/bin/env bash
# Stop the OpenID provider that up.sh started under $OIDCPEER_RUN (default
# /tmp/infino-oidcpeer). Keeps the run dir (node_modules, certs, log) so the
# next up.sh is quick; pass --purge to delete it too.
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
peers_down "$@"
