# Shared by up.sh and down.sh; sourced, never run.
# shellcheck shell=bash

RUN=${OIDCPEER_RUN:-/tmp/infino-oidcpeer}
case $RUN in
  /*) ;;
  *) RUN=$(pwd)/$RUN ;;
esac
if [[ ! $RUN =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  echo "oidcpeer: OIDCPEER_RUN must be an absolute path of [A-Za-z0-9._/-], got '$RUN'" >&2
  exit 2
fi
RUN=${RUN%/}

HOST=127.0.0.1
PORT=9443          # the provider (https)
API_PORT=9444      # the test's Infino API stand-in (http, 127.0.0.1 only)
ISSUER_PATH=/realms/infino
CLIENT_ID=infino-mailbox
ACCOUNT=anna@kancelaria.test
PID_FILE=$RUN/oidcpeer.pid

op_log() { printf 'oidcpeer: %s\n' "$*" >&2; }

# op_lock: serialise up.sh/down.sh runs on the same $RUN (fd 9); the
# provider is started with 9>&- so it does not inherit the lock.
op_lock() {
  mkdir -p "${RUN%/*}"
  exec 9>"$RUN.lock"
  flock -w 120 9 || { op_log "another up.sh/down.sh holds $RUN.lock for 120 s"; exit 1; }
}

# op_pid_alive FILE: the PID in FILE names a live process (not a zombie).
op_pid_alive() {
  local pid stat
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# op_port_open HOST PORT: something accepts TCP there.
op_port_open() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# op_stop: TERM the provider this run dir started, wait up to 5 s, then KILL.
op_stop() {
  local pid i
  op_pid_alive "$PID_FILE" || { rm -f "$PID_FILE"; return 0; }
  pid=$(tr -dc '0-9' <"$PID_FILE")
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    op_pid_alive "$PID_FILE" || break
    sleep 0.05
  done
  op_pid_alive "$PID_FILE" && kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}
