# Shared by up.sh and down.sh; sourced, never run. See README.md.
# shellcheck shell=bash

# The logic every peer set shares (lock, wait, fingerprint, env file, stop)
# is in ../peers/lib.sh; this file adds what is Cyrus's and Exim's.
# shellcheck source=../peers/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../peers" && pwd)/lib.sh"
peers_setup otherpeers OTHERPEERS_RUN /tmp/infino-otherpeers
# Exim writes its own logs under the run dir.
PEERS_LOGS="$PEERS_LOGS $RUN/exim/log/*log"
# The Debian packages, unpacked (not installed: see README.md).
ROOT=$RUN/root
LIBDIR=$ROOT/usr/lib/x86_64-linux-gnu
CYRUS_BIN=$ROOT/usr/lib/cyrus/bin
EXIM=$ROOT/usr/sbin/exim4

# No second address: Cyrus has no loopback exemption, so 127.0.0.1 is already
# as strict as the Dovecot peers' 127.0.0.2.
HOST=127.0.0.1
STRICT_HOST=$HOST
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

# peers_ports: every address and port the servers listen on.
peers_ports() {
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

# peers_stop: stop whatever of ours runs under $RUN. Cyrus's master passes
# TERM on to its children and exits when the last one has; with none left (or
# when they exit before it handles the signal) it can wait on, so after a
# second master and children are killed (children by parent PID and only if
# their command line names our unpacked tree). Exim's daemon has no child
# that outlives a session.
peers_stop() {
  local kids k
  if peers_pid_alive "$CYRUS_PID"; then
    kids=$(op_children "$(tr -dc '0-9' <"$CYRUS_PID")")
    peers_kill_pidfile "$CYRUS_PID" cyrus 20
    for k in $kids; do
      grep -qF "$ROOT/" "/proc/$k/cmdline" 2>/dev/null && kill -9 "$k" 2>/dev/null || true
    done
  fi
  rm -f "$CYRUS_PID"
  peers_kill_pidfile "$EXIM_PID" exim
}
