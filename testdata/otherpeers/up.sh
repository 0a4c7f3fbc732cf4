#!/usr/bin/env bash
# Start mail servers that are not Dovecot and Postfix on loopback, for tests
# that try the app against other real implementations: Cyrus IMAP 3.6 (IMAP
# and POP3, implicit TLS and STARTTLS/STLS, SASL against a private sasldb) and
# Exim 4.96 (submission with STARTTLS and with implicit TLS, AUTH PLAIN/LOGIN
# against a private password file).
#
# Debian declares Cyrus in conflict with Dovecot (both provide imap-server)
# and Exim with Postfix (mail-transport-agent): installing them would remove
# the Dovecot/Postfix peers. So the four .deb files are downloaded with apt-get
# and unpacked under $OTHERPEERS_RUN/root, and only their shared libraries
# (no conflicts) are installed. Nothing under /etc is read or written; the
# system user "otherpeers" and Exim's "Debian-exim" are created if missing.
#
# Idempotent: when everything already runs from this version of the script, it
# only prints the env file's path. Needs root.
#
#   bash testdata/otherpeers/up.sh      # then: go test ./...
#   bash testdata/otherpeers/down.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# Unpacked, never installed (see above). exim4-daemon-light has TLS (GnuTLS)
# and the plaintext authenticator, all this needs.
DEBS=(cyrus-common cyrus-imapd cyrus-pop3d exim4-daemon-light)
# What the unpacked binaries link against (and saslpasswd2 plus the sasldb
# plugin for the password database; adduser for Exim's user, as exim4-base
# would create it): none of them conflicts with anything.
PACKAGES=(sasl2-bin libsasl2-2 libsasl2-modules libsasl2-modules-db libcom-err2 libssl3 libwrap0 zlib1g
  libical3 libicu72 libjansson4 libkrb5-3 libldap-2.5-0 libpcre3 libpq5 libsqlite3-0 libstdc++6
  libxapian30 libxml2 libuuid1 libevent-2.1-7 libdb5.3 libgnutls30 libgnutls-dane0 libidn12 libidn2-0
  libnsl2 libpcre2-8-0 libcrypt1 openssl ca-certificates adduser)

if [ "$(id -u)" != 0 ]; then
  peers_log "must run as root (apt-get, daemons that drop privileges); try: sudo bash $0"
  exit 1
fi

peers_fingerprint "$HERE/up.sh" "$HERE/lib.sh"
peers_lock
peers_exit_if_current "$CYRUS_PID" "$EXIM_PID"

: >"$APT_LOG"

# ---------------------------------------------------------- libraries ---
# sasl2-bin ships saslauthd's init script, which the policy-rc.d keeps from
# starting.
mapfile -t missing < <(peers_missing "${PACKAGES[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  peers_apt_install "${missing[@]}"
fi

# ------------------------------------------------------ unpacked servers ---
# Kept across runs; downloaded again only when a .deb is missing.
mkdir -p "$RUN/debs"
have_debs() {
  local d
  for d in "${DEBS[@]}"; do
    compgen -G "$RUN/debs/${d}_*.deb" >/dev/null || return 1
  done
}
if ! have_debs; then
  peers_log "downloading ${DEBS[*]}"
  t0=$SECONDS
  rm -f "$RUN"/debs/*.deb "$RUN/root.stamp"
  # _apt cannot write to a root-owned 0755 directory; apt then downloads as
  # root and says so (a warning, not an error).
  if ! (cd "$RUN/debs" && apt-get download -q "${DEBS[@]}" </dev/null >>"$APT_LOG" 2>&1); then
    peers_apt_update
    (cd "$RUN/debs" && apt-get download -q "${DEBS[@]}" </dev/null >>"$APT_LOG" 2>&1) ||
      { tail -20 "$APT_LOG" >&2; peers_log "apt-get download ${DEBS[*]} failed"; exit 1; }
  fi
  peers_log "downloaded in $((SECONDS - t0)) s"
fi
stamp=$(cd "$RUN/debs" && ls ./*.deb | sha256sum | cut -d' ' -f1)
if [ "$(cat "$RUN/root.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$EXIM" ] || [ ! -x "$CYRUS_BIN/master" ]; then
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  for deb in "$RUN"/debs/*.deb; do
    dpkg-deb -x "$deb" "$ROOT"
  done
  echo "$stamp" >"$RUN/root.stamp"
fi
notfound=$(for b in "$CYRUS_BIN/master" "$CYRUS_BIN/imapd" "$CYRUS_BIN/pop3d" "$CYRUS_BIN/ctl_cyrusdb" "$EXIM"; do
  LD_LIBRARY_PATH=$LIBDIR ldd "$b" | grep 'not found' || true
done | sort -u)
[ -z "$notfound" ] || { peers_log "libraries missing for the unpacked servers (add their packages to PACKAGES):"; echo "$notfound" >&2; exit 1; }
CYRUS_VERSION=$(dpkg-deb -f "$(ls "$RUN"/debs/cyrus-imapd_*.deb)" Version)
EXIM_VERSION=$(dpkg-deb -f "$(ls "$RUN"/debs/exim4-daemon-light_*.deb)" Version)

peers_reset

# ------------------------------------------------------------- users ---
id "$SYS_USER" >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SYS_USER"
# The name is compiled into Debian's Exim; created the way exim4-base would.
id "$EXIM_USER" >/dev/null 2>&1 ||
  adduser --system --group --quiet --home /var/spool/exim4 --no-create-home --disabled-login --force-badname "$EXIM_USER"

install -d -m 0755 "$RUN" "$RUN/log" "$RUN/certs" "$RUN/cyrus" "$RUN/exim"
install -d -m 0750 -o "$SYS_USER" -g "$SYS_USER" "$RUN/cyrus/config" "$RUN/cyrus/spool" "$RUN/cyrus/socket"
install -d -m 0750 -o "$EXIM_USER" -g "$EXIM_USER" "$RUN/exim/spool" "$RUN/exim/log"

# ------------------------------------------------------------ certificates ---
# Their own, not the Dovecot peers'.
peers_cert "Infino Mailbox other-peers test CA" localhost DNS:localhost,IP:127.0.0.1
# Both servers read the key after dropping privileges: one copy each.
install -m 0600 -o "$SYS_USER" -g "$SYS_USER" "$C/server.key" "$RUN/cyrus/server.key"
install -m 0600 -o "$EXIM_USER" -g "$EXIM_USER" "$C/server.key" "$RUN/exim/server.key"

# ------------------------------------------------------------- mail user ---
# Cyrus: a private sasldb (virtdomains: the realm is the domain).
rm -f "$RUN/cyrus/sasldb2"
printf '%s' "$MAIL_PASSWORD" | saslpasswd2 -f "$RUN/cyrus/sasldb2" -p -c -u "${MAIL_USER#*@}" "${MAIL_USER%@*}"
chown "$SYS_USER:$SYS_USER" "$RUN/cyrus/sasldb2"
chmod 600 "$RUN/cyrus/sasldb2"
# Exim: "user: crypt hash" for an lsearch lookup and crypteq.
printf '%s: %s\n' "$MAIL_USER" "$(openssl passwd -6 "$MAIL_PASSWORD")" >"$RUN/exim/passwd"
chown "root:$EXIM_USER" "$RUN/exim/passwd"
chmod 640 "$RUN/exim/passwd"

# ------------------------------------------------------------------ cyrus ---
cat >"$CYRUS_CONF" <<EOF
# Generated by testdata/otherpeers/up.sh
configdirectory: $RUN/cyrus/config
proc_path: $RUN/cyrus/config/proc
mboxname_lockpath: $RUN/cyrus/config/lock
defaultpartition: default
partition-default: $RUN/cyrus/spool
lmtpsocket: $RUN/cyrus/socket/lmtp
idlesocket: $RUN/cyrus/socket/idle
notifysocket: $RUN/cyrus/socket/notify
servername: localhost
syslog_prefix: infino-otherpeers
cyrus_user: $SYS_USER
cyrus_group: $SYS_USER
virtdomains: userid
unixhierarchysep: yes
altnamespace: yes
# The INBOX is created at the first sign-in (POP3 refuses a user without one).
autocreate_quota: 0
# Plaintext LOGIN/USER only after STARTTLS/STLS, on loopback too.
allowplaintext: no
# Cyrus waits 3 s after a failed login by default.
failedloginpause: 0
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $RUN/cyrus/sasldb2
sasl_mech_list: PLAIN LOGIN
sasl_auto_transition: no
tls_server_cert: $C/server.crt
tls_server_key: $RUN/cyrus/server.key
tls_versions: tls1_2 tls1_3
EOF

# Cyrus's master does not pass -C to the programs it starts: each gets it.
B=$CYRUS_BIN
cat >"$RUN/cyrus/cyrus.conf" <<EOF
# Generated by testdata/otherpeers/up.sh
START {
  recover cmd="$B/ctl_cyrusdb -C $CYRUS_CONF -r"
}
SERVICES {
  imap  cmd="$B/imapd -C $CYRUS_CONF" listen="$HOST:$IMAP_PORT" prefork=0
  imaps cmd="$B/imapd -C $CYRUS_CONF -s" listen="$HOST:$IMAPS_PORT" prefork=0
  pop3  cmd="$B/pop3d -C $CYRUS_CONF" listen="$HOST:$POP3_PORT" prefork=0
  pop3s cmd="$B/pop3d -C $CYRUS_CONF -s" listen="$HOST:$POP3S_PORT" prefork=0
}
EVENTS {
}
DAEMON {
}
EOF

# ------------------------------------------------------------------- exim ---
# Exim's $ expansions are escaped; shell variables are not.
cat >"$EXIM_CONF" <<EOF
# Generated by testdata/otherpeers/up.sh
keep_environment =
exim_path = $EXIM
exim_user = $EXIM_USER
exim_group = $EXIM_USER
never_users = root
primary_hostname = mail.example.test
qualify_domain = example.test
spool_directory = $RUN/exim/spool
log_file_path = $RUN/exim/log/%slog
pid_file_path = $EXIM_PID
local_interfaces = <; $HOST.$SUBMISSION_PORT ; $HOST.$SUBMISSIONS_PORT
tls_on_connect_ports = $SUBMISSIONS_PORT
tls_certificate = $C/server.crt
tls_privatekey = $RUN/exim/server.key
tls_advertise_hosts = *
host_lookup =
rfc1413_hosts =
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
smtp_banner = \$primary_hostname ESMTP Exim \$version_number Infino otherpeers \$tod_full

begin acl
# Submission: TLS and AUTH before MAIL, on both ports.
acl_mail:
  deny    message = 5.7.0 Encryption required
          !encrypted = *
  deny    message = 5.7.0 Authentication required
          !authenticated = *
  accept
acl_rcpt:
  accept  authenticated = *
  deny    message = 5.7.1 Relaying denied

begin routers
# Whatever is accepted is thrown away: nothing leaves the host.
discard:
  driver = redirect
  data = :blackhole:

begin transports

begin authenticators
# Offered only over TLS.
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_advertise_condition = \${if def:tls_in_cipher}
  server_condition = \${if crypteq{\$auth3}{\${lookup{\$auth2}lsearch{$RUN/exim/passwd}{\$value}fail}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_advertise_condition = \${if def:tls_in_cipher}
  server_condition = \${if crypteq{\$auth2}{\${lookup{\$auth1}lsearch{$RUN/exim/passwd}{\$value}fail}}}
  server_set_id = \$auth1
EOF
chmod 644 "$EXIM_CONF"

# ------------------------------------------------------------------ start ---
# Every daemon gets </dev/null and a log file: a caller piping our output
# (CI, "| tee") must see EOF when this script ends.
# Cyrus logs only to syslog (/dev/log); its stderr holds start-up failures.
LD_LIBRARY_PATH=$LIBDIR "$CYRUS_BIN/master" -C "$CYRUS_CONF" -M "$RUN/cyrus/cyrus.conf" -p "$CYRUS_PID" -d \
  </dev/null >>"$RUN/log/cyrus-stderr.log" 2>&1 9>&- || peers_fail "cyrus master failed to start"
"$EXIM" -C "$EXIM_CONF" -bd </dev/null >>"$RUN/log/exim-stderr.log" 2>&1 9>&- || peers_fail "exim failed to start"

peers_wait 15 "$CYRUS_PID" "$EXIM_PID"

# ---------------------------------------------------------------- env file ---
peers_mail_env OTHERPEERS_ IMAP_SERVER="cyrus-imapd/$CYRUS_VERSION" \
  SMTP_SERVER="exim4-daemon-light/$EXIM_VERSION" | peers_write_env

peers_log "up: cyrus-imapd $CYRUS_VERSION, exim $EXIM_VERSION"
peers_print_env
