#!/usr/bin/env bash
# Run a command against a real, unlocked Secret Service (GNOME Keyring) on a
# private D-Bus session bus, for the keyring integration test:
#
#   bash testdata/keyring/run-with-secret-service.sh go test -race -count=1 -run SecretService ./mailcfg/secrets/
#
# It starts dbus-run-session, starts gnome-keyring-daemon (secrets component
# only) inside it, creates and unlocks a "login" keyring with a throwaway
# password in a temporary XDG_DATA_HOME (the user's real keyrings are never
# touched), checks the service answers, sets INFINO_SECRET_SERVICE=1 and runs
# the command. Everything ends with the session; the temporary directory is
# removed. The exit code is the command's.
#
# Needs (Debian/Ubuntu): apt-get install -y dbus gnome-keyring libsecret-tools
set -euo pipefail

die() { echo "run-with-secret-service: $*" >&2; exit 2; }

[ $# -gt 0 ] || die "usage: $0 COMMAND [ARGS...]"

if [ -z "${INFINO_SECRET_SERVICE_SESSION:-}" ]; then
  for tool in dbus-run-session gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "$tool not found; install: apt-get install -y dbus gnome-keyring libsecret-tools"
  done
  # Re-run this script inside a private session bus; dbus-run-session ends
  # the bus (and the daemons bound to it) when the script exits.
  exec env INFINO_SECRET_SERVICE_SESSION=1 dbus-run-session -- bash "${BASH_SOURCE[0]}" "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/infino-secret-service.XXXXXX")
keyring_pid=""
cleanup() {
  if [ -n "$keyring_pid" ]; then kill "$keyring_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Only the keyring files and the daemon socket move; XDG_CONFIG_HOME and
# XDG_CACHE_HOME stay (the go command reads its env file and cache there).
export XDG_DATA_HOME=$tmp/data XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

# --unlock reads the password from stdin and creates the "login" keyring with
# it when it does not exist yet; --foreground keeps the daemon our child so we
# know its pid. Its output (environment lines, warnings such as "couldn't lock
# memory") goes to a log we show only on failure.
password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$password" |
  gnome-keyring-daemon --foreground --unlock --components=secrets >"$tmp/daemon.log" 2>&1 &
keyring_pid=$!

# Wait until our daemon (not one D-Bus might auto-activate from a .service
# file, which would come up locked) owns org.freedesktop.secrets, then check it
# answers a store/lookup. NameHasOwner never activates anything.
bus_call() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets" 2>/dev/null
}
ready=""
for _ in $(seq 1 100); do
  kill -0 "$keyring_pid" 2>/dev/null || break
  if [ "$(bus_call NameHasOwner | awk '{print $NF}')" = true ]; then
    owner=$(bus_call GetConnectionUnixProcessID | awk '{print $NF}')
    if [ "$owner" != "$keyring_pid" ]; then
      echo "run-with-secret-service: org.freedesktop.secrets is owned by pid $owner, not our daemon $keyring_pid" >&2
      break
    fi
    if printf 'probe' | secret-tool store --label='infino probe' infino-probe ready >/dev/null 2>&1 &&
       [ "$(secret-tool lookup infino-probe ready 2>/dev/null)" = probe ]; then
      secret-tool clear infino-probe ready >/dev/null 2>&1 || true
      ready=1
    fi
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "run-with-secret-service: gnome-keyring-daemon did not come up unlocked:" >&2
  cat "$tmp/daemon.log" >&2 || true
  exit 2
fi

export INFINO_SECRET_SERVICE=1
set +e
"$@"
rc=$?
set -e
exit "$rc"
