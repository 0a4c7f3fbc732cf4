#!/usr/bin/env bash
# Start real mail peers on loopback for tests: Dovecot 2.3 (IMAP, POP3; implicit
# TLS and STARTTLS) and Postfix (submission with STARTTLS and with implicit TLS,
# SASL through Dovecot), plus the OAuth token-introspection endpoint Dovecot
# asks for XOAUTH2/OAUTHBEARER. Installs the Debian packages when missing.
#
# Idempotent: when everything already runs from this version of the script, it
# only prints the env file's path. Needs root (apt, and the daemons drop
# privileges themselves) and Go (builds the introspection endpoint).
#
#   bash testdata/mailpeers/up.sh      # then: go test ./...
#   bash testdata/mailpeers/down.sh
#
# MAILPEERS_RUN (default /tmp/infino-mailpeers) is the private run dir: configs,
# certs, mail, logs, pids. /etc/dovecot and /etc/postfix are never touched.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

ENV_FILE=$RUN/env
PACKAGES=(dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix openssl ca-certificates)

if [ "$(id -u)" != 0 ]; then
  mp_log "must run as root (apt-get install, daemons that drop privileges); try: sudo bash $0"
  exit 1
fi

# A change to these files restarts running peers with the new configuration.
fingerprint() {
  cat "$HERE/up.sh" "$HERE/lib.sh" "$HERE/introspect/main.go" | sha256sum | cut -d' ' -f1
}
FINGERPRINT=$(fingerprint)
mp_lock

running_and_current() {
  local h p
  [ -s "$ENV_FILE" ] && [ "$(cat "$RUN/fingerprint" 2>/dev/null)" = "$FINGERPRINT" ] || return 1
  mp_pid_alive "$DOVECOT_PID" && mp_pid_alive "$POSTFIX_PID" && mp_pid_alive "$INTROSPECT_PID" || return 1
  while read -r h p; do
    mp_port_open "$h" "$p" || return 1
  done < <(mp_all_ports)
}

if running_and_current; then
  mp_log "already running"
  echo "mailpeers env: $ENV_FILE"
  exit 0
fi

# ---------------------------------------------------------------- install ---
need_install=0
for pkg in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
    need_install=1
  fi
done
if [ "$need_install" = 1 ]; then
  mp_log "installing ${PACKAGES[*]}"
  t0=$SECONDS
  printf '%s\n' 'postfix postfix/main_mailer_type select No configuration' \
                'postfix postfix/mailname string localhost' | debconf-set-selections
  # Keep maintainer scripts from starting the system-wide daemons on 25/143/993...
  # (exit 101 = action forbidden). Leave an existing policy-rc.d alone.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q -o DPkg::Lock::Timeout=120 </dev/null >"/tmp/mailpeers-apt.log" 2>&1 ||
    { tail -20 /tmp/mailpeers-apt.log >&2; mp_log "apt-get update failed"; exit 1; }
  apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends "${PACKAGES[@]}" </dev/null >>"/tmp/mailpeers-apt.log" 2>&1 ||
    { tail -20 /tmp/mailpeers-apt.log >&2; mp_log "apt-get install failed (log: /tmp/mailpeers-apt.log)"; exit 1; }
  mp_log "installed in $((SECONDS - t0)) s (log: /tmp/mailpeers-apt.log)"
  if trap -p EXIT | grep -q policy-rc.d; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

dv=$(dovecot --version)
case $dv in
  2.3.*) ;;
  *) mp_log "Dovecot $dv found; this setup is written for Dovecot 2.3 (2.4 changed the config syntax)"; exit 1 ;;
esac
command -v go >/dev/null || { mp_log "go not found in PATH (needed to build the introspection endpoint)"; exit 1; }

# Whatever of ours runs (stale, partial or older config) is stopped first.
mkdir -p "$RUN/log"
mp_stop
rm -f "$ENV_FILE" "$RUN/fingerprint"
# Logs hold this run only, so a failure's tail is about this start.
for f in "$RUN"/log/*.log; do [ -f "$f" ] && : >"$f"; done

# ------------------------------------------------------------- directories ---
id "$SYS_USER" >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SYS_USER"
uid=$(id -u "$SYS_USER")
gid=$(id -g "$SYS_USER")

install -d -m 0755 "$RUN" "$RUN/log" "$RUN/certs" "$RUN/bin" "$RUN/oauth" "$RUN/oauth/tokens" \
  "$RUN/dovecot" "$RUN/dovecot/base" "$RUN/dovecot/state" "$RUN/postfix" "$POSTFIX_DIR"
install -d -m 0755 -o root -g root "$SPOOL"
install -d -m 0755 -o postfix "$RUN/postfix/data"
install -d -m 0700 -o "$SYS_USER" -g "$SYS_USER" "$RUN/mail"

# ------------------------------------------------------------ certificates ---
# A private CA and a server leaf it signs; both kept across runs (renewed when
# missing or within 30 days of expiry). Clients trust certs/ca.crt.
C=$RUN/certs
if ! { [ -s "$C/ca.crt" ] && [ -s "$C/server.crt" ] && [ -s "$C/server.key" ] &&
       openssl x509 -checkend 2592000 -noout -in "$C/ca.crt" >/dev/null &&
       openssl x509 -checkend 2592000 -noout -in "$C/server.crt" >/dev/null; }; then
  mp_log "creating test CA and server certificate"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
      -keyout "$C/ca.key" -out "$C/ca.crt" -subj "/CN=Infino Mailbox test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey rsa:2048 -sha256 -nodes \
      -keyout "$C/server.key" -out "$C/server.csr" -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' \
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2' >"$C/server.ext"
    openssl x509 -req -sha256 -days 3650 -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" \
      -CAcreateserial -extfile "$C/server.ext" -out "$C/server.crt" 2>/dev/null
    rm -f "$C/server.csr" "$C/server.ext"
  )
  chmod 644 "$C/ca.crt" "$C/server.crt"
fi
CERT_SHA256=$(openssl x509 -in "$C/server.crt" -outform DER | sha256sum | cut -d' ' -f1)

# ------------------------------------------------------------- mail user ---
hash=$(openssl passwd -6 "$MAIL_PASSWORD")
printf '%s:{SHA512-CRYPT}%s:%s:%s::%s\n' "$MAIL_USER" "$hash" "$uid" "$gid" \
  "$RUN/mail/example.test/test" >"$RUN/dovecot/users"
chown root:dovecot "$RUN/dovecot/users"
chmod 640 "$RUN/dovecot/users"

# The known OAuth token: a file named by its SHA-256 (see introspect/main.go).
printf '{"active": true, "email": "%s", "scope": "IMAP POP SMTP"}\n' "$MAIL_USER" \
  >"$RUN/oauth/tokens/$(printf '%s' "$OAUTH_TOKEN" | sha256sum | cut -d' ' -f1)"

# ---------------------------------------------------------------- dovecot ---
cat >"$RUN/dovecot/oauth2.conf" <<EOF
introspection_mode = post
introspection_url = http://$HOST:$INTROSPECT_PORT/introspect
username_attribute = email
active_attribute = active
active_value = true
force_introspection = yes
timeout_msecs = 5000
EOF

cat >"$DOVECOT_CONF" <<EOF
# Generated by testdata/mailpeers/up.sh; Dovecot 2.3 syntax.
instance_name = mailpeers
base_dir = $RUN/dovecot/base
state_dir = $RUN/dovecot/state
log_path = $RUN/log/dovecot.log
protocols = imap pop3 lmtp
# 127.0.0.2 is "strict": the source (127.0.0.1) differs from the local address,
# so Dovecot does not count the connection as secured and refuses plaintext
# auth before STARTTLS/STLS. On 127.0.0.1 it allows it.
listen = $HOST, $STRICT_HOST
login_trusted_networks =
login_greeting = Infino mailpeers ready.
mail_location = maildir:~/Maildir
first_valid_uid = $uid
last_valid_uid = $uid
postmaster_address = postmaster@example.test
pop3_uidl_format = %08Xu%08Xv

ssl = yes
ssl_cert = <$C/server.crt
ssl_key = <$C/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_verbose = yes

passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=SHA512-CRYPT $RUN/dovecot/users
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $RUN/dovecot/oauth2.conf
}
userdb {
  driver = passwd-file
  args = $RUN/dovecot/users
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = $POP3S_PORT
    ssl = yes
  }
}
# No growing delay after failed logins (2 s .. 15 s per bad-password test).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener $SPOOL/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0600
  }
}
service lmtp {
  unix_listener $SPOOL/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
EOF

# ---------------------------------------------------------------- postfix ---
# Postfix reads '#' comments only at the start of a line.
cat >"$POSTFIX_DIR/main.cf" <<EOF
# Generated by testdata/mailpeers/up.sh
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $RUN/postfix/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.test
mydomain = example.test
myorigin = example.test
# Only 127.0.0.1: Postfix refuses an inet_interfaces address that no interface
# carries (lo has 127.0.0.1/8). master.cf binds 127.0.0.2 explicitly anyway.
inet_interfaces = $HOST
inet_protocols = ipv4
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = /var, /dev/stdout, $RUN
maillog_file = $RUN/log/postfix.log
smtpd_banner = \$myhostname ESMTP Infino mailpeers

smtpd_tls_cert_file = $C/server.crt
smtpd_tls_key_file = $C/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
# Default 2048 truncates "AUTH XOAUTH2 <initial response>" with a real-size token.
line_length_limit = 12288
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject

virtual_mailbox_domains = example.test
virtual_transport = lmtp:unix:private/dovecot-lmtp
default_transport = discard:remote mail discarded
relay_transport = discard:remote mail discarded
EOF

{
  echo "# Generated by testdata/mailpeers/up.sh; no port-25 listener, nothing chrooted."
  for h in "$HOST" "$STRICT_HOST"; do
    cat <<EOF
$h:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
$h:$SUBMISSIONS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
EOF
  done
  cat <<'EOF'
pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
verify     unix  - - n -    1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -    - proxymap
proxywrite unix  - - n -    1 proxymap
smtp       unix  - - n -    - smtp
relay      unix  - - n -    - smtp
showq      unix  n - n -    - showq
error      unix  - - n -    - error
retry      unix  - - n -    - error
discard    unix  - - n -    - discard
local      unix  - n n -    - local
virtual    unix  - n n -    - virtual
lmtp       unix  - - n -    - lmtp
anvil      unix  - - n -    1 anvil
scache     unix  - - n -    1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
} >"$POSTFIX_DIR/master.cf"
# Postfix re-reads a config file every 300 ms while its mtime is within about
# a second of now (dict_load_file), which made every start 2 s slower.
touch -d "@$(($(date +%s) - 10))" "$POSTFIX_DIR/main.cf" "$POSTFIX_DIR/master.cf"

# ------------------------------------------------------ introspection binary ---
BIN=$RUN/bin/introspect
if [ ! -x "$BIN" ] || [ "$HERE/introspect/main.go" -nt "$BIN" ]; then
  mp_log "building the introspection endpoint"
  t0=$SECONDS
  # From a plain root shell too: sudo's PATH may lack Go's directory, and a Go
  # whose go.env says GOTOOLCHAIN=local refuses the module's newer go line;
  # auto switches to go.mod's toolchain (make exports it already).
  go=$(command -v go || echo /usr/local/go/bin/go)
  (cd "$REPO" && GOTOOLCHAIN=${GOTOOLCHAIN:-auto} "$go" build -buildvcs=false -o "$BIN" ./testdata/mailpeers/introspect) >>"$RUN/log/build.log" 2>&1 ||
    { tail -20 "$RUN/log/build.log" >&2; mp_log "go build of testdata/mailpeers/introspect failed"; exit 1; }
  mp_log "built in $((SECONDS - t0)) s"
fi

# ------------------------------------------------------------------ start ---
# Every daemon gets </dev/null and its own log: a caller piping our output
# (CI, "| tee") must see EOF when this script ends.
dump_logs() {
  local f
  for f in "$RUN"/log/*.log; do
    [ -s "$f" ] || continue
    echo "----- tail $f" >&2
    tail -n 15 "$f" >&2
  done
}
fail() {
  dump_logs
  mp_stop
  mp_log "FAILED: $*"
  exit 1
}

rm -f "$INTROSPECT_PID"
setsid "$BIN" -addr "$HOST:$INTROSPECT_PORT" -tokens "$RUN/oauth/tokens" -pidfile "$INTROSPECT_PID" \
  </dev/null >>"$RUN/log/introspect.log" 2>&1 9>&- &
# Postfix first: "postfix start" creates $SPOOL/private, where Dovecot puts the
# auth and LMTP sockets.
# Once "postfix start" has created the queue directories, later starts skip
# its ~3 s integrity checks (postfix-script honours $SPOOL/quick-start).
if [ -d "$SPOOL/private" ] && [ -d "$SPOOL/maildrop" ] && [ -d "$SPOOL/pid" ]; then
  touch "$SPOOL/quick-start"
fi
if ! postfix -c "$POSTFIX_DIR" start </dev/null >>"$RUN/log/postfix-stderr.log" 2>&1 9>&-; then
  # Without syslog, the postfix command prints its reason only to a terminal:
  # try once more under a pty to capture it.
  script -qec "postfix -c '$POSTFIX_DIR' start" /dev/null </dev/null >>"$RUN/log/postfix-stderr.log" 2>&1 9>&- ||
    fail "postfix failed to start"
fi
dovecot -c "$DOVECOT_CONF" </dev/null >>"$RUN/log/dovecot-stderr.log" 2>&1 9>&- || fail "dovecot failed to start"

deadline=$((SECONDS + 15))
while read -r h p; do
  until mp_port_open "$h" "$p"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "nothing answers on $h:$p after 15 s"
    sleep 0.05
  done
done < <(mp_all_ports)
for f in "$DOVECOT_PID" "$POSTFIX_PID" "$INTROSPECT_PID"; do
  mp_pid_alive "$f" || fail "no live process for $f"
done

# ---------------------------------------------------------------- env file ---
# KEY=VALUE, no quoting needed; also valid shell ("set -a; . env").
cat >"$ENV_FILE.tmp" <<EOF
MAILPEERS_HOST=$HOST
MAILPEERS_STRICT_HOST=$STRICT_HOST
MAILPEERS_IMAP_STARTTLS_PORT=$IMAP_PORT
MAILPEERS_IMAPS_PORT=$IMAPS_PORT
MAILPEERS_POP3_STARTTLS_PORT=$POP3_PORT
MAILPEERS_POP3S_PORT=$POP3S_PORT
MAILPEERS_SUBMISSION_PORT=$SUBMISSION_PORT
MAILPEERS_SUBMISSIONS_PORT=$SUBMISSIONS_PORT
MAILPEERS_CA=$C/ca.crt
MAILPEERS_CERT=$C/server.crt
MAILPEERS_CERT_SHA256=$CERT_SHA256
MAILPEERS_USER=$MAIL_USER
MAILPEERS_PASSWORD=$MAIL_PASSWORD
MAILPEERS_OAUTH_TOKEN=$OAUTH_TOKEN
MAILPEERS_OAUTH_TOKEN_DIR=$RUN/oauth/tokens
MAILPEERS_RUN=$RUN
EOF
chmod 644 "$ENV_FILE.tmp"
mv -f "$ENV_FILE.tmp" "$ENV_FILE"
echo "$FINGERPRINT" >"$RUN/fingerprint"

mp_log "up: dovecot $(dovecot --version | cut -d' ' -f1), $(postconf -c "$POSTFIX_DIR" -h mail_version 2>/dev/null | sed 's/^/postfix /')"
echo "mailpeers env: $ENV_FILE"
