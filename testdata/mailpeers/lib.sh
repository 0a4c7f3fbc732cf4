# Shared by up.sh and down.sh; sourced, never run. See README.md. The logic
# every peer set shares (lock, wait, fingerprint, env file, stop) is in
# ../peers/lib.sh; this file adds what is Dovecot's and Postfix's.
# shellcheck shell=bash

# shellcheck source=../peers/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../peers" && pwd)/lib.sh"
peers_setup mailpeers MAILPEERS_RUN /tmp/infino-mailpeers
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

# peers_ports: every address and port the peers listen on.
peers_ports() {
  local h p
  for h in "$HOST" "$STRICT_HOST"; do
    for p in "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"; do
      printf '%s %s\n' "$h" "$p"
    done
  done
  printf '%s %s\n' "$HOST" "$INTROSPECT_PORT"
}

# peers_stop: stop whatever of ours is running under $RUN. Safe to call when
# nothing runs or the packages are not even installed.
peers_stop() {
  # Dovecot's master stops its children on TERM. (Not "doveadm stop": it
  # waits for the PID to vanish, and where PID 1 does not reap orphans, as in
  # some containers, the exited master lingers as a zombie for 2.5 s.)
  peers_kill_pidfile "$DOVECOT_PID" dovecot
  if peers_pid_alive "$POSTFIX_PID"; then
    if [ -f "$POSTFIX_DIR/main.cf" ] && command -v postfix >/dev/null; then
      postfix -c "$POSTFIX_DIR" stop </dev/null >>"$RUN/log/postfix-stderr.log" 2>&1 || true
    fi
    peers_kill_pidfile "$POSTFIX_PID" postfix
  fi
  peers_kill_pidfile "$INTROSPECT_PID" introspect
}
