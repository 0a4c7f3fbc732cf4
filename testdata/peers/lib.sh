# The start/wait/lock/fingerprint/env-file/stop logic every peer set shares
# (testdata/mailpeers: Dovecot and Postfix; testdata/otherpeers: Cyrus and
# Exim; testdata/oidcpeer: the OpenID provider). Sourced by each set's own
# lib.sh, never run.
#
# A set's lib.sh sources this file, calls peers_setup, and defines
#   peers_ports  one "HOST PORT" line for every port its servers listen on
#   peers_stop   stop whatever of the set runs under $RUN (safe when nothing
#                does, or nothing is even installed)
# Its up.sh and down.sh then use the functions below.
# shellcheck shell=bash

PEERS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh

# peers_setup NAME VAR DEFAULT: NAME prefixes every message; RUN, the set's
# private run dir, is $VAR or DEFAULT. Also sets ENV_FILE, APT_LOG and
# PEERS_LOGS (the log files a failed start shows, as globs; a set may add
# its own).
peers_setup() {
  PEERS_NAME=$1
  RUN=${!2:-$3}
  case $RUN in
    /*) ;;
    *) RUN=$(pwd)/$RUN ;;
  esac
  # The path is written verbatim into the servers' configuration files and
  # the env file: keep it to characters none of them needs quoted.
  if [[ ! $RUN =~ ^/[A-Za-z0-9._/-]+$ ]]; then
    echo "$1: $2 must be an absolute path of [A-Za-z0-9._/-], got '$RUN'" >&2
    exit 2
  fi
  RUN=${RUN%/}
  ENV_FILE=$RUN/env
  APT_LOG=/tmp/$1-apt.log
  PEERS_LOGS="$RUN/log/*.log"
}

peers_log() { printf '%s: %s\n' "$PEERS_NAME" "$*" >&2; }

# peers_lock: serialise up.sh/down.sh runs on the same $RUN (fd 9). Every
# daemon is started with 9>&- so it does not inherit the lock.
peers_lock() {
  mkdir -p "${RUN%/*}"
  exec 9>"$RUN.lock"
  flock -w 120 9 || { peers_log "another up.sh/down.sh holds $RUN.lock for 120 s"; exit 1; }
}

# peers_pid_alive FILE: the PID in FILE names a live process (not a zombie).
peers_pid_alive() {
  local pid stat
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# peers_port_open HOST PORT: something accepts TCP there (bash's /dev/tcp,
# 1 s cap).
peers_port_open() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# peers_kill_pidfile FILE NAME [STEPS]: TERM the PID in FILE, wait STEPS
# times 50 ms (default 100: 5 s) for it to go, then KILL. Removes FILE.
peers_kill_pidfile() {
  local pid i
  peers_pid_alive "$1" || { rm -f "$1"; return 0; }
  pid=$(tr -dc '0-9' <"$1")
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < ${3:-100}; i++)); do
    peers_pid_alive "$1" || { rm -f "$1"; return 0; }
    sleep 0.05
  done
  peers_log "$2 (pid $pid) ignored TERM; killing"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

# peers_fingerprint FILE...: FINGERPRINT, the hash of the files that make up
# the set (this library included). A change to any restarts running peers
# with the new configuration.
peers_fingerprint() {
  FINGERPRINT=$(cat "$@" "$PEERS_LIB" | sha256sum | cut -d' ' -f1)
}

# peers_exit_if_current PIDFILE...: when the env file and fingerprint are
# from this version, every PIDFILE names a live process and every port
# answers, say so and exit 0: up.sh's idempotent path.
peers_exit_if_current() {
  local f h p
  [ -s "$ENV_FILE" ] && [ "$(cat "$RUN/fingerprint" 2>/dev/null)" = "$FINGERPRINT" ] || return 0
  for f; do
    peers_pid_alive "$f" || return 0
  done
  while read -r h p; do
    peers_port_open "$h" "$p" || return 0
  done < <(peers_ports)
  peers_log "already running"
  peers_print_env
  exit 0
}

peers_print_env() { echo "$PEERS_NAME env: $ENV_FILE"; }

# peers_missing PKG...: those of the Debian packages PKG not installed.
peers_missing() {
  local pkg
  for pkg; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      echo "$pkg"
    fi
  done
}

# peers_apt_update: apt-get update, once per run; output to $APT_LOG.
peers_apt_update() {
  [ "${PEERS_APT_UPDATED:-0}" = 1 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q -o DPkg::Lock::Timeout=120 </dev/null >>"$APT_LOG" 2>&1 ||
    { tail -20 "$APT_LOG" >&2; peers_log "apt-get update failed"; exit 1; }
  PEERS_APT_UPDATED=1
}

# peers_apt_install PKG...: install the Debian packages PKG (and no
# recommends). Maintainer scripts may not start any daemon (a policy-rc.d
# that exits 101, "action forbidden", unless one exists already).
peers_apt_install() {
  local t0=$SECONDS
  [ "${PEERS_APT_UPDATED:-0}" = 1 ] || : >"$APT_LOG"
  peers_log "installing $*"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
  fi
  peers_apt_update
  apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends "$@" </dev/null >>"$APT_LOG" 2>&1 ||
    { tail -20 "$APT_LOG" >&2; peers_log "apt-get install failed (log: $APT_LOG)"; exit 1; }
  peers_log "installed in $((SECONDS - t0)) s (log: $APT_LOG)"
  if trap -p EXIT | grep -q policy-rc.d; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
}

# peers_reset: before a start, stop whatever of ours runs (stale, partial
# or older config), drop the env file and fingerprint, and empty the logs so
# a failure's tail is about this start.
peers_reset() {
  local f
  mkdir -p "$RUN/log"
  peers_stop
  rm -f "$ENV_FILE" "$RUN/fingerprint"
  # shellcheck disable=SC2086 # PEERS_LOGS holds globs; $RUN has no spaces
  for f in $PEERS_LOGS; do
    [ -f "$f" ] && : >"$f"
  done
  return 0
}

# peers_cert CA_NAME LEAF_CN SAN: C, the certs dir, with a private CA and a
# server leaf it signs (subjectAltName SAN); both kept across runs, renewed
# when missing or within 30 days of expiry. Clients trust $C/ca.crt.
# CERT_SHA256 is the leaf's DER SHA-256.
peers_cert() {
  C=$RUN/certs
  mkdir -p "$C"
  if ! { [ -s "$C/ca.crt" ] && [ -s "$C/server.crt" ] && [ -s "$C/server.key" ] &&
         openssl x509 -checkend 2592000 -noout -in "$C/ca.crt" >/dev/null &&
         openssl x509 -checkend 2592000 -noout -in "$C/server.crt" >/dev/null; }; then
    peers_log "creating test CA and server certificate"
    (
      umask 077
      openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
        -keyout "$C/ca.key" -out "$C/ca.crt" -subj "/CN=$1" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
      openssl req -new -newkey rsa:2048 -sha256 -nodes \
        -keyout "$C/server.key" -out "$C/server.csr" -subj "/CN=$2" 2>/dev/null
      printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature,keyEncipherment' \
        'extendedKeyUsage=serverAuth' \
        "subjectAltName=$3" >"$C/server.ext"
      openssl x509 -req -sha256 -days 3650 -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" \
        -CAcreateserial -extfile "$C/server.ext" -out "$C/server.crt" 2>/dev/null
      rm -f "$C/server.csr" "$C/server.ext"
    )
    chmod 644 "$C/ca.crt" "$C/server.crt"
  fi
  CERT_SHA256=$(openssl x509 -in "$C/server.crt" -outform DER | sha256sum | cut -d' ' -f1)
}

# peers_fail MESSAGE: show the logs' tails, stop what started, exit 1.
peers_fail() {
  local f
  # shellcheck disable=SC2086 # PEERS_LOGS holds globs; $RUN has no spaces
  for f in $PEERS_LOGS; do
    [ -s "$f" ] || continue
    echo "----- tail $f" >&2
    tail -n 20 "$f" >&2
  done
  peers_stop
  peers_log "FAILED: $*"
  exit 1
}

# peers_wait SECONDS PIDFILE...: every port of peers_ports answers within
# SECONDS and then every PIDFILE names a live process; else peers_fail.
# A PIDFILE whose process has died ends the wait at once.
peers_wait() {
  local secs=$1 deadline=$((SECONDS + $1)) h p f
  shift
  while read -r h p; do
    until peers_port_open "$h" "$p"; do
      [ "$SECONDS" -lt "$deadline" ] || peers_fail "nothing answers on $h:$p after $secs s"
      for f; do
        [ ! -s "$f" ] || peers_pid_alive "$f" || peers_fail "the process of $f exited; nothing answers on $h:$p"
      done
      sleep 0.05
    done
  done < <(peers_ports)
  for f; do
    peers_pid_alive "$f" || peers_fail "no live process for $f"
  done
}

# peers_write_env: the env file from stdin (KEY=VALUE lines, no quoting
# needed; also valid shell: "set -a; . env"), written whole, and the
# fingerprint of this version beside it.
peers_write_env() {
  cat >"$ENV_FILE.tmp"
  chmod 644 "$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
  echo "$FINGERPRINT" >"$RUN/fingerprint"
}

# peers_mail_env PREFIX [KEY=VALUE...]: the env file of a mail set (read by
# internal/mailpeers, every key with the set's PREFIX): addresses, ports,
# certificate and account, then each KEY=VALUE, then the run dir.
peers_mail_env() {
  local prefix=$1 kv
  shift
  cat <<EOF
${prefix}HOST=$HOST
${prefix}STRICT_HOST=$STRICT_HOST
${prefix}IMAP_STARTTLS_PORT=$IMAP_PORT
${prefix}IMAPS_PORT=$IMAPS_PORT
${prefix}POP3_STARTTLS_PORT=$POP3_PORT
${prefix}POP3S_PORT=$POP3S_PORT
${prefix}SUBMISSION_PORT=$SUBMISSION_PORT
${prefix}SUBMISSIONS_PORT=$SUBMISSIONS_PORT
${prefix}CA=$C/ca.crt
${prefix}CERT=$C/server.crt
${prefix}CERT_SHA256=$CERT_SHA256
${prefix}USER=$MAIL_USER
${prefix}PASSWORD=$MAIL_PASSWORD
EOF
  for kv; do
    echo "$prefix$kv"
  done
  echo "${prefix}RUN=$RUN"
}

# peers_down [--purge]: down.sh. Stops the set, keeps the run dir (certs,
# logs, what was installed there) so the next up.sh is quick; --purge
# deletes it too.
peers_down() {
  peers_lock
  if [ ! -d "$RUN" ]; then
    peers_log "nothing under $RUN"
    exit 0
  fi
  rm -f "$ENV_FILE" "$RUN/fingerprint"
  peers_stop
  if [ "${1:-}" = --purge ]; then
    rm -rf "$RUN"
    peers_log "stopped; removed $RUN"
  else
    peers_log "stopped (run dir kept: $RUN)"
  fi
}
