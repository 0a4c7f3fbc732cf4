# Sourced by the scripts under .ci/ (never run): strict mode, the repository
# root as the working directory ($ROOT, with $OUT for the packages), the Go
# toolchain that go.mod names, and say, which logs a step with the seconds
# since the start under the name in $SAY.
# shellcheck shell=bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/dist

# go_toolchain prints the toolchain go.mod names (its "toolchain go1.X.Y"
# line, the one place it is written), or "auto" when there is none.
go_toolchain() {
  local t
  t=$(sed -n 's/^toolchain[[:space:]]*\(go[^[:space:]]*\).*/\1/p' "$ROOT/go.mod")
  echo "${t:-auto}"
}
# Exported, because some Go installations ship GOTOOLCHAIN=local in
# $GOROOT/go.env, which refuses a go.mod newer than themselves instead of
# switching; the go command fetches the named toolchain from the module
# proxy on first use.
GOTOOLCHAIN=$(go_toolchain)
export GOTOOLCHAIN

t0=$(date +%s)
say() { printf '== %s: %s (+%ds)\n' "${SAY:-${0##*/}}" "$*" "$(($(date +%s) - t0))"; }
