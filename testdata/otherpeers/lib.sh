# Shared by up.sh and down.sh; sourced, never run. See README.md.
# shellcheck shell=bash

# The generic helpers (mp_pid_alive, mp_port_open, mp_kill_pidfile) come from
# the Dovecot/Postfix peers' lib.sh; its own variables are overridden below
# and its mp_stop is never called from here.
# shellcheck source=../mailpeers/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../mailpeers" && pwd)/lib.sh"

RUN=${OTHERPEERS_RUN:-/tmp/infino-otherpeers}
case $RUN in
  /*) ;;
  *) RUN=$(pwd)/$RUN ;;
esac
# Written verbatim into imapd.conf, cyrus.conf, the Exim configuration and the
# env file: keep it to characters none of them needs quoted.
if [[ ! $RUN =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  echo "otherpeers: OTHERPEERS_RUN must be an absolute path of [A-Za-z0-9._/-], got '$RUN'" >&2
  exit 2
fi
RUN=${RUN%/}
# The Debian packages, unpacked (not installed: see README.md).
ROOT=$RUN/root
LIBDIR=$ROOT/usr/lib/x86_64-linux-gnu
CYRUS_BIN=$ROOT/usr/lib/cyrus/bin
EXIM=$ROOT/usr/sbin/exim4

# No second address: Cyrus has no loopback exemption, so 127.0.0.1 is already
# as strict as the Dovecot peers' 127.0.0.2.
HOST=127.0.0.1
IMAP_PORT=10143
IMAPS_PORT=10993
POP3_PORT=10110
POP3S_PORT=10995
SUBMISSION_PORT=10587
SUBMISSIONS_PORT=10465

MAIL_USER=test@example.test
MAIL_PASSWORD=test-password
# Cyrus runs as this user (cyrus_user); Exim as its compiled-in Debian-exim.
SYS_USER=otherpeers
EXIM_USER=Debian-exim

CYRUS_CONF=$RUN/cyrus/imapd.conf
CYRUS_PID=$RUN/cyrus/master.pid
EXIM_CONF=$RUN/exim/exim.conf
EXIM_PID=$RUN/exim/exim.pid

op_log() { printf 'otherpeers: %s\n' "$*" >&2; }

# op_lock: serialise up.sh/down.sh runs on the same $RUN (fd 8; the Dovecot
# peers' scripts use fd 9). Every daemon is started with 8>&-.
op_lock() {
  mkdir -p "${RUN%/*}"
  exec 8>"$RUN.lock"
  flock -w 120 8 || { op_log "another up.sh/down.sh holds $RUN.lock for 120 s"; exit 1; }
}

op_all_ports() {
  local p
  for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"; do
    printf '%s %s\n' "$HOST" "$p"
  done
}

# op_children PID: the PIDs whose parent is PID (from /proc: no procps needed).
op_children() {
  local f stat rest
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    rest=${stat##*) } # "S PPID ...": the fields after the command name
    rest=${rest#* }
    if [ "${rest%% *}" = "$1" ]; then
      f=${f#/proc/}
      echo "${f%/stat}"
    fi
  done
}

# op_stop: stop whatever of ours runs under $RUN. Cyrus's master passes TERM
# on to its children and exits when the last one has; with none left (or when
# they exit before it handles the signal) it can wait on, so after a second
# master and children are killed (children by parent PID and only if their
# command line names our unpacked tree). Exim's daemon has no child that
# outlives a session.
op_stop() {
  local pid kids k i
  if mp_pid_alive "$CYRUS_PID"; then
    pid=$(tr -dc '0-9' <"$CYRUS_PID")
    kids=$(op_children "$pid")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
      mp_pid_alive "$CYRUS_PID" || break
      sleep 0.05
    done
    if mp_pid_alive "$CYRUS_PID"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    for k in $kids; do
      grep -qF "$ROOT/" "/proc/$k/cmdline" 2>/dev/null && kill -9 "$k" 2>/dev/null || true
    done
  fi
  rm -f "$CYRUS_PID"
  mp_kill_pidfile "$EXIM_PID" exim
}
