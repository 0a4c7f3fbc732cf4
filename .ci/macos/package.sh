#!/usr/bin/env bash
# macOS packages, on a Mac (Xcode command-line tools, Go): the .app bundle,
# a .pkg installer, and — when the identities are given — Developer ID
# signing, notarization and stapling. Cannot run on Linux (cgo + macOS SDK).
#
#   bash .ci/macos/package.sh            → dist/Infino Mailbox.app, dist/InfinoMailbox-<v>.pkg
#
# Environment:
#   DIST_VERSION           X.Y.Z (default: tag vX.Y.Z at HEAD, else FyneApp.toml X.Y + commit count;
#                          see .ci/version.sh)
#   MACOS_SIGN_APP         "Developer ID Application: Infino Legal (TEAMID)"   (codesign)
#   MACOS_SIGN_INSTALLER   "Developer ID Installer: Infino Legal (TEAMID)"     (productbuild)
#   MACOS_NOTARY_PROFILE   a keychain profile made once with
#                          xcrun notarytool store-credentials <profile> --apple-id … --team-id … --password <app-specific>
#   MACOS_ARCH             arm64 (default on Apple silicon) or amd64
# Without the identities the results are unsigned: fine for testing, blocked by Gatekeeper elsewhere.
SAY=macos
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$(uname -s)" = Darwin ] || { echo "package.sh: macOS only (see docs/deployment.md, section 4)" >&2; exit 2; }

version_env=$(bash .ci/version.sh --shell)
eval "$version_env"
say "version $VERSION ($LABEL)"

WORK=$ROOT/build/macos
rm -rf "$WORK" && mkdir -p "$WORK/src" "$OUT"
# fyne package rewrites FyneApp.toml (Build++): package a snapshot, not the checkout.
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$WORK/src"

command -v fyne >/dev/null || go install fyne.io/tools/cmd/fyne@v1.7.4
FYNE=$(command -v fyne || echo "$(go env GOPATH)/bin/fyne")
export GOARCH=${MACOS_ARCH:-$(go env GOARCH)}
APP="Infino Mailbox.app"
# Build the binary ourselves (fyne would name it after the module, "mailbox"),
# then let fyne package wrap it: Info.plist, icon, bundle id, version.
(cd "$WORK/src" && CGO_ENABLED=1 go build -trimpath -tags release \
  -ldflags "-s -w -X infino.legal/mailbox/mailcfg.Version=$LABEL" -o infino-mailbox . &&
  "$FYNE" package -os darwin --release --executable infino-mailbox --app-id legal.infino.mailbox \
    --app-version "$VERSION" --app-build "$BUILD" --icon assets/icon.png --name "Infino Mailbox")
rm -rf "$OUT/$APP" && mv "$WORK/src/$APP" "$OUT/$APP"
"$OUT/$APP/Contents/MacOS/infino-mailbox" version

if [ -n "${MACOS_SIGN_APP:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$MACOS_SIGN_APP" "$OUT/$APP"
  codesign --verify --strict --verbose=2 "$OUT/$APP"
fi
pkgbuild --component "$OUT/$APP" --install-location /Applications --identifier legal.infino.mailbox \
  --version "$VERSION" "$WORK/component.pkg"
PKG=$OUT/InfinoMailbox-$VERSION.pkg
if [ -n "${MACOS_SIGN_INSTALLER:-}" ]; then
  productbuild --package "$WORK/component.pkg" --sign "$MACOS_SIGN_INSTALLER" "$PKG"
else
  productbuild --package "$WORK/component.pkg" "$PKG"
fi
if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$PKG" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
  xcrun stapler staple "$PKG"
  spctl --assess --type install --verbose "$PKG"
fi
ls -l "$OUT"
