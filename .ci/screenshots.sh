#!/usr/bin/env bash
# Screenshots of every screen of the window, in Polish and English (and Polish
# in the dark theme), taken from the real binary under Xvfb. Each screen is
# opened, filled with sample data, by the INFINO_MAILBOX_SCREENSHOT hook
# (ui/screenshot.go, built only with -tags screenshots, so the shipped binary
# has neither the hook nor its samples): no network is used. The hook's own
# tests run first. Writes docs/screenshots/*.png.
# "demo" is not a hook screen: it is the real "infino-mailbox --demo" (sandbox
# servers in the process) as it opens, shot as pl-demo.png and en-demo.png.
#
#   bash .ci/screenshots.sh            # all screens, then demo
#   bash .ci/screenshots.sh manual-filled verify-cert demo   # just these
#
# Needs: Xvfb, xdotool, ImageMagick's import, a C compiler for Fyne.
SAY=screenshots
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

OUT=${SCREENSHOTS_OUT:-docs/screenshots}
DISPLAY_NUM=${SCREENSHOTS_DISPLAY:-:93}
SETTLE=${SCREENSHOTS_SETTLE:-1.5}
ALL=(start start-microsoft start-microsoft-off manual-empty manual-filled manual-unknown manual-errors manual-insecure manual-advanced
     manual-redirect manual-exchange-only verify-running verify-ok verify-failed verify-cert verify-cert-confirm verify-cert-host
     done done-sent done-queued done-url done-fields done-exists start-demo
     start-google start-shared start-waiting consent manual-microsoft verify-signin)
if [ $# -gt 0 ]; then SCREENS=("$@"); else SCREENS=("${ALL[@]}" demo); fi

for tool in Xvfb xdotool import; do
  command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing (apt-get install xvfb xdotool imagemagick)" >&2; exit 1; }
done

work=$(mktemp -d)
xpid=""
cleanup() {
  [ -n "$xpid" ] && kill "$xpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "screenshots: testing the hook"
go test -tags screenshots -count=1 -run 'TestNoEnglishOnPolishScreens|TestScreensFitTheWindow|TestScreenshotScriptListsEveryScreen' ./ui/
echo "screenshots: building"
go build -tags screenshots -o "$work/infino-mailbox" .

Xvfb "$DISPLAY_NUM" -screen 0 1366x768x24 +extension GLX -nolisten tcp >"$work/xvfb.log" 2>&1 &
xpid=$!
sleep 1
mkdir -p "$OUT" "$work/run"

shoot() { # shoot LOCALE THEME SCREEN FILE, retried: a GL context under a busy Xvfb fails now and then
  local try
  for try in 1 2 3; do
    if shoot_once "$@"; then return 0; fi
    echo "screenshots: retrying $3 ($try)" >&2
  done
  return 1
}

shoot_once() {
  local locale=$1 theme=$2 screen=$3 file=$4 pid wid hook=$3 args=()
  if [ "$screen" = demo ]; then hook="" args=(--demo); fi
  rm -rf "$work/config" # a fresh profile each time: no state leaks between shots
  env -u LANGUAGE -u INFINO_MAILBOX_POLICY LC_ALL="$locale" LANG="$locale" FYNE_THEME="$theme" DISPLAY="$DISPLAY_NUM" \
    XDG_RUNTIME_DIR="$work/run" XDG_CONFIG_HOME="$work/config" \
    INFINO_MAILBOX_SCREENSHOT="$hook" "$work/infino-mailbox" "${args[@]}" >"$work/out.log" 2>&1 &
  pid=$!
  wid=""
  for _ in $(seq 1 100); do
    wid=$(DISPLAY="$DISPLAY_NUM" xdotool search --onlyvisible --pid "$pid" 2>/dev/null | head -n1 || true)
    [ -n "$wid" ] && break
    sleep 0.1
  done
  if [ -z "$wid" ]; then
    echo "screenshots: no window for $screen" >&2; cat "$work/out.log" >&2; kill "$pid" 2>/dev/null || true; return 1
  fi
  sleep "$SETTLE"
  DISPLAY="$DISPLAY_NUM" import -window "$wid" "$file"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "  $file"
}

for s in "${SCREENS[@]}"; do
  shoot pl_PL.UTF-8 light "$s" "$OUT/pl-$s.png"
  shoot en_GB.UTF-8 light "$s" "$OUT/en-$s.png"
  [ "$s" = demo ] || shoot pl_PL.UTF-8 dark "$s" "$OUT/pl-$s-dark.png"
done
echo "screenshots: done, in $OUT"
