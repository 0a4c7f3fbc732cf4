#!/usr/bin/env bash
# What a make target needs from the machine, and on Debian/Ubuntu installing
# what is missing (make check-deps, before run, build, test, dist and
# screenshots):
#
#   bash .ci/deps.sh build [test] [screenshots] [dist]
#
#   build        a C compiler and, on Linux, the X11/GL/Wayland headers Fyne's
#                cgo needs
#   test         a private D-Bus with GNOME Keyring and secret-tool (the
#                Secret Service test; without them it skips, except in CI);
#                Node.js and npm (the OpenID provider of testdata/oidcpeer)
#   screenshots  Xvfb, xdotool, ImageMagick (.ci/screenshots.sh)
#   dist         mingw-w64, wixl, msitools, osslsigncode, Wine (.ci/dist.sh,
#                .ci/wine/check.sh)
#
# The table below is the one list of Debian packages: each row is a check (a
# command on PATH, a C header under $DEPS_INCLUDE, default /usr/include, or a
# directory) and the package that satisfies it. When something is missing on
# a machine with apt-get, and this runs as root or sudo works without a
# password (sudo -n), it runs apt-get update (once, skipped when the lists
# are fresh) and installs the missing packages non-interactively, then checks
# again; otherwise it prints the apt-get line and fails (for "test" outside
# CI: prints it and goes on). DEPS_APT_GET replaces the apt-get command
# (tests of this script).
set -euo pipefail

INCLUDE=${DEPS_INCLUDE:-/usr/include}
OS=$(uname -s 2>/dev/null || echo Windows)

# need   check                        package
TABLE='
build  cmd:gcc                        gcc
build  cmd:pkg-config                 pkg-config
build  h:stdlib.h                     libc6-dev
build  h:GL/gl.h                      libgl1-mesa-dev
build  h:X11/Xlib.h                   libx11-dev
build  h:X11/Xcursor/Xcursor.h        libxcursor-dev
build  h:X11/extensions/Xrandr.h      libxrandr-dev
build  h:X11/extensions/Xinerama.h    libxinerama-dev
build  h:X11/extensions/XInput2.h     libxi-dev
build  h:X11/extensions/xf86vmode.h   libxxf86vm-dev
build  h:wayland-client-core.h        libwayland-dev
build  h:xkbcommon/xkbcommon.h        libxkbcommon-dev
build  dir:/usr/share/wayland-protocols wayland-protocols
test   cmd:dbus-run-session           dbus
test   cmd:gnome-keyring-daemon       gnome-keyring
test   cmd:secret-tool                libsecret-tools
test   cmd:node                       nodejs
test   cmd:npm                        npm
screenshots cmd:Xvfb                  xvfb
screenshots cmd:xauth                 xauth
screenshots cmd:xdotool               xdotool
screenshots cmd:import                imagemagick
dist   cmd:x86_64-w64-mingw32-gcc     gcc-mingw-w64-x86-64
dist   cmd:x86_64-w64-mingw32-windres binutils-mingw-w64-x86-64
dist   cmd:wixl                       wixl
dist   cmd:msibuild                   msitools
dist   cmd:osslsigncode               osslsigncode
dist   cmd:openssl                    openssl
dist   wine64                         wine64
'

has() { # check
  case $1 in
    cmd:*) command -v "${1#cmd:}" >/dev/null 2>&1 ;;
    h:*) [ -f "$INCLUDE/${1#h:}" ] ;;
    dir:*) [ -d "${1#dir:}" ] ;;
    wine64) command -v wine64 >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] ;;
    *) echo "deps: unknown check $1" >&2; return 1 ;;
  esac
}

# missing prints "need check package" for each row of the needs asked for
# that the machine lacks.
missing() {
  local need check pkg n
  while read -r need check pkg; do
    [ -n "$need" ] || continue
    for n in "${NEEDS[@]}"; do
      if [ "$n" = "$need" ] && ! has "$check"; then echo "$need $check $pkg"; fi
    done
  done <<<"$TABLE"
}
names() { awk '{c = $2; sub(/^[a-z]+:/, "", c); print c}' <<<"$1" | paste -sd' ' -; }

[ $# -gt 0 ] || set -- build
NEEDS=()
for n in "$@"; do
  case $n in
    build | test | screenshots | dist) NEEDS+=("$n") ;;
    *) echo "deps: unknown need $n (build, test, screenshots, dist)" >&2; exit 2 ;;
  esac
done

# Off Linux only the C compiler is checked: the rest is Linux packaging.
if [ "$OS" != Linux ]; then
  if command -v "${CC:-gcc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then exit 0; fi
  echo "A C compiler is needed for Fyne (cgo)."
  echo "  macOS:   xcode-select --install"
  echo "  Windows: install MSYS2 and its mingw-w64 gcc (see README)"
  exit 1
fi

rows=$(missing)
[ -n "$rows" ] || exit 0
pkgs=$(awk '!seen[$3]++ {print $3}' <<<"$rows" | paste -sd' ' -)
echo "deps: missing for ${NEEDS[*]}: $(names "$rows")"

APT_GET=${DEPS_APT_GET:-apt-get}
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=no; fi
fi
if [ "$sudo" != no ] && command -v "${APT_GET%% *}" >/dev/null 2>&1; then
  echo "deps: installing $pkgs${sudo:+ (with sudo)}"
  log=$(mktemp "${TMPDIR:-/tmp}/deps-apt.XXXXXX")
  apt() { # shellcheck disable=SC2086 # $sudo and $APT_GET may hold several words.
    $sudo env DEBIAN_FRONTEND=noninteractive $APT_GET "$@" </dev/null >>"$log" 2>&1
  }
  # apt-get update once, unless the package lists are less than an hour old
  # (.ci/run, or make test just before make dist, updated them). apt dates a
  # list file by the archive's Last-Modified, and renaming one into place
  # dates the directory: anything of the last hour is ours.
  fresh=$(find /var/lib/apt/lists -maxdepth 1 -mmin -60 2>/dev/null | head -1)
  # shellcheck disable=SC2086 # $pkgs is a list.
  if { [ -n "$fresh" ] || apt update -q -o DPkg::Lock::Timeout=120; } &&
    apt install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends $pkgs; then
    rm -f "$log"
    rows=$(missing)
    if [ -z "$rows" ]; then echo "deps: installed"; exit 0; fi
    echo "deps: still missing after apt-get install: $(names "$rows")"
    pkgs=$(awk '!seen[$3]++ {print $3}' <<<"$rows" | paste -sd' ' -)
  else
    tail -20 "$log"
    echo "deps: apt-get failed (log: $log)"
  fi
fi

echo "Install them with:"
echo "  sudo apt-get install -y --no-install-recommends $pkgs"
# Without the Secret Service tools the keyring test skips locally: worth
# saying, not worth stopping for. In CI it must run.
if [ -z "${CI:-}" ] && [ -z "$(awk '$1 != "test"' <<<"$rows")" ]; then
  echo "(without them the Secret Service and OpenID provider tests skip)"
  exit 0
fi
exit 1
