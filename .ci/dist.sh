#!/usr/bin/env bash
# make dist: the packages, built on Linux (Debian 12).
#
#   dist/infino-mailbox-<v>-windows-amd64.exe      the window (GUI subsystem), icon + version resource
#   dist/infino-mailbox-cli-<v>-windows-amd64.exe  the same program as a console exe, for scripts and IT
#   dist/InfinoMailbox-<v>-x64.msi                 per-machine MSI; public properties → machine policy
#   dist/infino-mailbox-<v>-linux-amd64.tar.gz     Linux binary, .desktop file, icon, docs
#
# macOS packages need a macOS runner: .ci/macos/package.sh (see docs/deployment.md).
#
# Environment:
#   DIST_TARGETS   "windows linux" (default) or a subset
#   DIST_VERSION   the version, X.Y.Z; default: the tag vX.Y.Z at HEAD, else
#                  FyneApp.toml's X.Y with the commit count as Z (a dev build);
#                  see .ci/version.sh
#   SIGN_CERT + SIGN_KEY   PEM certificate (chain) and key for Authenticode, or
#   SIGN_PKCS12 [+ SIGN_PASSWORD]   a .pfx; nothing set: unsigned
#   SIGN_TIMESTAMP_URL     RFC 3161 timestamp server (releases need one, or the
#                          signature stops validating when the certificate expires)
# Tools: go, gcc-mingw-w64-x86-64 (windres too), wixl, msitools, osslsigncode:
# .ci/deps.sh checks them (and installs them when it can).
SAY=dist
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
WORK=$ROOT/build/dist
TARGETS=${DIST_TARGETS:-windows linux}
APP=infino-mailbox
VERSION_PKG=infino.legal/mailbox/mailcfg.Version

# --- version (X.Y.Z within the MSI limits, or .ci/version.sh exits 2) -----------
version_env=$(bash .ci/version.sh --shell)
eval "$version_env"
IFS=. read -r vmaj vmin vpat <<<"$VERSION"
say "version $VERSION ($LABEL)"

rm -rf "$WORK" "$OUT" && mkdir -p "$WORK" "$OUT"

# --- a snapshot of the tree ----------------------------------------------------
# Built from a copy (tracked and untracked, not ignored, files) so that the
# generated Windows resource never lands in the shared checkout and edits made
# meanwhile do not mix into one build. -trimpath keeps the Go build cache valid
# across directories.
SRC=$WORK/src
mkdir -p "$SRC"
git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$SRC"

# --- signing -------------------------------------------------------------------
SIGN=()
if [ -n "${SIGN_PKCS12:-}" ]; then
  SIGN=(-pkcs12 "$SIGN_PKCS12" ${SIGN_PASSWORD:+-pass "$SIGN_PASSWORD"})
elif [ -n "${SIGN_CERT:-}" ] && [ -n "${SIGN_KEY:-}" ]; then
  SIGN=(-certs "$SIGN_CERT" -key "$SIGN_KEY")
fi
sign() { # in out
  if [ ${#SIGN[@]} -eq 0 ]; then cp "$1" "$2"; return; fi
  osslsigncode sign "${SIGN[@]}" -h sha256 -n "Infino Mailbox" -i "https://infino.legal" \
    ${SIGN_TIMESTAMP_URL:+-ts "$SIGN_TIMESTAMP_URL"} -in "$1" -out "$2" >/dev/null
}

# --- Windows -------------------------------------------------------------------
windows() {
  bash .ci/deps.sh dist
  local W=$WORK/windows
  mkdir -p "$W"
  go run .ci/windows/mkico.go assets/icon.png "$W/icon.ico"

  # One resource per exe: icon, version information.
  resource() { # original-filename description
    cat >"$W/app.rc" <<EOF
#include <winver.h>
1 ICON "icon.ico"
1 VERSIONINFO
FILEVERSION $vmaj,$vmin,$vpat,0
PRODUCTVERSION $vmaj,$vmin,$vpat,0
FILEFLAGSMASK 0x3f
FILEFLAGS 0
FILEOS VOS_NT_WINDOWS32
FILETYPE VFT_APP
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "Infino Legal"
      VALUE "FileDescription", "$2"
      VALUE "FileVersion", "$VERSION.0"
      VALUE "InternalName", "$APP"
      VALUE "LegalCopyright", "Infino Legal"
      VALUE "OriginalFilename", "$1"
      VALUE "ProductName", "Infino Mailbox"
      VALUE "ProductVersion", "$LABEL"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
EOF
    (cd "$W" && x86_64-w64-mingw32-windres -O coff -i app.rc -o "$SRC/zz_dist_rsrc_windows_amd64.syso")
  }
  local gobuild=(env CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc go build -trimpath)
  local ld="-s -w -X $VERSION_PKG=$LABEL"

  say "windows: GUI exe (cold Fyne cross-build ~7 min, warm seconds)"
  resource "$APP.exe" "Infino Mailbox"
  (cd "$SRC" && "${gobuild[@]}" -ldflags "$ld -H windowsgui" -o "$W/$APP.unsigned.exe" .)
  say "windows: console exe"
  resource "$APP-cli.exe" "Infino Mailbox (command line)"
  (cd "$SRC" && "${gobuild[@]}" -ldflags "$ld" -o "$W/$APP-cli.unsigned.exe" .)
  rm -f "$SRC/zz_dist_rsrc_windows_amd64.syso"

  # Sign the exes, build the MSI around them, patch it, sign the MSI last.
  say "windows: sign, MSI"
  local M=$WORK/msi
  mkdir -p "$M"
  sign "$W/$APP.unsigned.exe" "$M/$APP.exe"
  sign "$W/$APP-cli.unsigned.exe" "$M/$APP-cli.exe"
  cp "$W/icon.ico" "$M/icon.ico"
  cp docs/deployment.md "$M/deployment.md"
  # wixl wants SourceDir relative to where it runs.
  (cd "$WORK" && wixl -a x64 -D Version="$VERSION" -D SourceDir=msi -o unsigned.msi "$ROOT/.ci/windows/infino-mailbox.wxs")
  # wixl cannot mark properties Secure: list them in SecureCustomProperties
  # so they reach the elevated (and the managed) install.
  local props
  props=$(grep -o '<Property Id="[A-Z]*" />' .ci/windows/infino-mailbox.wxs | sed 's/.*Id="\([A-Z]*\)".*/\1/' | paste -sd';' -)
  msibuild "$WORK/unsigned.msi" -q "UPDATE Property SET Value='WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;$props' WHERE Property='SecureCustomProperties'"
  sign "$WORK/unsigned.msi" "$OUT/InfinoMailbox-$VERSION-x64.msi"
  cp "$M/$APP.exe" "$OUT/$APP-$VERSION-windows-amd64.exe"
  cp "$M/$APP-cli.exe" "$OUT/$APP-cli-$VERSION-windows-amd64.exe"
  if [ ${#SIGN[@]} -gt 0 ] && [ -n "${SIGN_CERT:-}" ]; then
    for f in "$OUT/InfinoMailbox-$VERSION-x64.msi" "$OUT/$APP-$VERSION-windows-amd64.exe" "$OUT/$APP-cli-$VERSION-windows-amd64.exe"; do
      osslsigncode verify -CAfile "$SIGN_CERT" -in "$f" >/dev/null || { echo "dist: signature of $f does not verify" >&2; exit 1; }
    done
    say "windows: signatures verify"
  fi
}

# --- Linux ---------------------------------------------------------------------
linux() {
  bash .ci/deps.sh build
  say "linux: binary"
  local L=$WORK/linux/$APP-$VERSION
  mkdir -p "$L"
  # No -trimpath here: it shares the Go build cache with "make test".
  (cd "$SRC" && CGO_ENABLED=1 go build -ldflags "-s -w -X $VERSION_PKG=$LABEL" -o "$L/$APP" .)
  cp assets/icon.png "$L/$APP.png"
  cp README.md "$L/README.md"
  cp docs/deployment.md "$L/deployment.md"
  cat >"$L/$APP.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Infino Mailbox
GenericName=Mailbox connector
Comment=Connect a mailbox to Infino Legal
Exec=$APP
Icon=$APP
Categories=Office;Network;Email;
Terminal=false
EOF
  tar -C "$WORK/linux" --owner=0 --group=0 -czf "$OUT/$APP-$VERSION-linux-amd64.tar.gz" "$APP-$VERSION"
}

for t in $TARGETS; do
  case $t in
    windows) windows ;;
    linux) linux ;;
    *) echo "dist: unknown target $t (windows, linux; macOS: .ci/macos/package.sh on a Mac)" >&2; exit 2 ;;
  esac
done
echo "$VERSION" >"$WORK/version"
say "done"
ls -l "$OUT"
