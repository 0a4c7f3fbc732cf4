#!/usr/bin/env bash
# Stop the servers that up.sh started under $OTHERPEERS_RUN (default
# /tmp/infino-otherpeers). Keeps the run dir (the unpacked packages, certs,
# mail, logs) so the next up.sh is quick; pass --purge to delete it too. The
# libraries and the system users "otherpeers" and "Debian-exim" stay.
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
peers_down "$@"
