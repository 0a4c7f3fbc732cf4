#!/usr/bin/env bash
# The version of a build, one answer for make run/build, make dist, the macOS
# package and CI:
#
#   bash .ci/version.sh           the label the binary reports (mailcfg.Version)
#   bash .ci/version.sh --shell   VERSION=… LABEL=… BUILD=…, for eval
#
# VERSION is X.Y.Z, what installers need (MSI ProductVersion, CFBundleVersion):
# DIST_VERSION when set, else the tag vX.Y.Z at HEAD, else FyneApp.toml's X.Y
# with the number of commits as Z. LABEL is VERSION for a release (DIST_VERSION
# or the tag) and X.Y.Z-dev+<commit> otherwise; a working tree with uncommitted
# changes adds "dirty" to it. BUILD is the number of commits.
# Exits 2, saying why, when VERSION is not X.Y.Z within the MSI limits
# 255.255.65535.
set -euo pipefail
cd "$(dirname "$0")/.."

count=$(git rev-list --count HEAD 2>/dev/null || echo 0)
sha=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet HEAD -- 2>/dev/null; then
  dirty=dirty
fi
if [ -n "${DIST_VERSION:-}" ]; then
  VERSION=$DIST_VERSION LABEL=$DIST_VERSION
elif tag=$(git describe --tags --exact-match --match 'v[0-9]*.[0-9]*.[0-9]*' 2>/dev/null); then
  VERSION=${tag#v} LABEL=${tag#v}${dirty:++$dirty}
else
  base=$(sed -n 's/^ *Version *= *"\([0-9]*\.[0-9]*\)\.[0-9]*".*/\1/p' FyneApp.toml 2>/dev/null | head -1)
  VERSION=${base:-0.1}.$count LABEL="${base:-0.1}.$count-dev+$sha${dirty:+.$dirty}"
fi

if [[ ! $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "version: $VERSION is not X.Y.Z" >&2
  exit 2
fi
IFS=. read -r vmaj vmin vpat <<<"$VERSION"
if ! ((10#$vmaj < 256 && 10#$vmin < 256 && 10#$vpat < 65536)); then
  echo "version: $VERSION exceeds the MSI limits 255.255.65535" >&2
  exit 2
fi

case ${1:-} in
  "") echo "$LABEL" ;;
  --shell) printf 'VERSION=%q LABEL=%q BUILD=%q\n' "$VERSION" "$LABEL" "$count" ;;
  *) echo "usage: $0 [--shell]" >&2; exit 2 ;;
esac
