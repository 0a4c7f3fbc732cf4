# Shared by up.sh and down.sh; sourced, never run. See README.md.
# shellcheck shell=bash

RUN=${MAILPEERS_RUN:-/tmp/infino-mailpeers}
case $RUN in
  /*) ;;
  *) RUN=$(pwd)/$RUN ;;
esac
# The path is written verbatim into dovecot.conf, main.cf and the env file:
# keep it to characters none of them needs quoted.
if [[ ! $RUN =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  echo "mailpeers: MAILPEERS_RUN must be an absolute path of [A-Za-z0-9._/-], got '$RUN'" >&2
  exit 2
fi
RUN=${RUN%/}
SPOOL=$RUN/postfix/spool

HOST=127.0.0.1
STRICT_HOST=127.0.0.2
IMAP_PORT=9143
IMAPS_PORT=9993
POP3_PORT=9110
POP3S_PORT=9995
SUBMISSION_PORT=9587
SUBMISSIONS_PORT=9465
INTROSPECT_PORT=9080

MAIL_USER=test@example.test
MAIL_PASSWORD=test-password
OAUTH_TOKEN=test-oauth-token
SYS_USER=mailpeers

DOVECOT_CONF=$RUN/dovecot/dovecot.conf
DOVECOT_PID=$RUN/dovecot/base/master.pid
POSTFIX_DIR=$RUN/postfix/etc
POSTFIX_PID=$SPOOL/pid/master.pid
INTROSPECT_PID=$RUN/oauth/introspect.pid

mp_log() { printf 'mailpeers: %s\n' "$*" >&2; }

# mp_lock: serialise up.sh/down.sh runs on the same $RUN (fd 9). Every daemon
# is started with 9>&- so it does not inherit the lock.
mp_lock() {
  mkdir -p "${RUN%/*}"
  exec 9>"$RUN.lock"
  flock -w 120 9 || { mp_log "another up.sh/down.sh holds $RUN.lock for 120 s"; exit 1; }
}

# mp_pid_alive FILE: the PID in FILE names a live process (not a zombie).
mp_pid_alive() {
  local pid stat
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# mp_port_open HOST PORT: something accepts TCP there (bash's /dev/tcp, 1 s cap).
mp_port_open() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

mp_all_ports() {
  local h p
  for h in "$HOST" "$STRICT_HOST"; do
    for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"; do
      printf '%s %s\n' "$h" "$p"
    done
  done
  printf '%s %s\n' "$HOST" "$INTROSPECT_PORT"
}

# mp_kill_pidfile FILE NAME: TERM the PID in FILE, wait up to 5 s, then KILL.
mp_kill_pidfile() {
  local pid i
  mp_pid_alive "$1" || { rm -f "$1"; return 0; }
  pid=$(tr -dc '0-9' <"$1")
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    mp_pid_alive "$1" || { rm -f "$1"; return 0; }
    sleep 0.05
  done
  mp_log "$2 (pid $pid) ignored TERM; killing"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

# mp_stop: stop whatever of ours is running under $RUN. Safe to call when
# nothing runs or the packages are not even installed.
mp_stop() {
  # Dovecot's master stops its children on TERM. (Not "doveadm stop": it
  # waits for the PID to vanish, and where PID 1 does not reap orphans, as in
  # some containers, the exited master lingers as a zombie for 2.5 s.)
  mp_kill_pidfile "$DOVECOT_PID" dovecot
  if mp_pid_alive "$POSTFIX_PID"; then
    if [ -f "$POSTFIX_DIR/main.cf" ] && command -v postfix >/dev/null; then
      postfix -c "$POSTFIX_DIR" stop </dev/null >>"$RUN/log/postfix-stderr.log" 2>&1 || true
    fi
    mp_kill_pidfile "$POSTFIX_PID" postfix
  fi
  mp_kill_pidfile "$INTROSPECT_PID" introspect
}
