#!/usr/bin/env bash
# Proves the Windows artefacts of "make dist" on Linux (run after it):
#   1. msiinfo: the MSI's properties, files, shortcut, registry rows;
#      osslsigncode: the signatures, when dist signed (SIGN_CERT);
#   2. under Wine (Debian's wine64): the console exe runs "version" and
#      "discover --offline jan@interia.pl", the GUI exe prints when its output
#      is redirected;
#   3. a silent "msiexec /i … /qn INFINOURL=… MSCLIENTID=…" writes the machine
#      policy, and the installed exe's "policy show" reports each value with
#      its registry origin (HKLM over HKCU); uninstall removes it again;
#   4. the policy and netconf tests, cross-compiled, run under Wine (the real
#      registry reader against a real registry).
# Wine 8 (Debian 12) needs a bcryptprimitives.dll stub for Go >= 1.22 binaries:
# built here with mingw-w64 and copied into the prefix.
SAY=wine-check
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
WORK=$ROOT/build/wine
VERSION=$(cat build/dist/version)
MSI=$OUT/InfinoMailbox-$VERSION-x64.msi
EXE=$OUT/infino-mailbox-$VERSION-windows-amd64.exe
CLI=$OUT/infino-mailbox-cli-$VERSION-windows-amd64.exe

fails=0 passes=0
ok() { passes=$((passes + 1)); echo "  ok   $*"; }
bad() { fails=$((fails + 1)); echo "  FAIL $*"; }
expect() { # description haystack needle…
  local d=$1 h=$2; shift 2
  for n in "$@"; do
    if grep -qF -- "$n" <<<"$h"; then ok "$d: $n"; else bad "$d: lacks «$n»"; echo "$h" | sed 's/^/       | /' | head -40; fi
  done
}

mkdir -p "$WORK"

# --- 1. the MSI, statically ----------------------------------------------------
say "msiinfo"
props=$(msiinfo export "$MSI" Property)
expect "Property table" "$props" "ProductName	Infino Mailbox" "ProductVersion	$VERSION" "ALLUSERS	1" \
  "Manufacturer	Infino Legal"
secure=$(grep '^SecureCustomProperties' <<<"$props")
for p in $(grep -o '<Property Id="[A-Z]*" />' .ci/windows/infino-mailbox.wxs | sed 's/.*Id="\([A-Z]*\)".*/\1/'); do
  expect "SecureCustomProperties" "$secure" "$p"
done
expect "File table" "$(msiinfo export "$MSI" File)" "infino-mailbox.exe" "infino-mailbox-cli.exe" "deployment.md"
expect "Shortcut table" "$(msiinfo export "$MSI" Shortcut)" "ProgramMenuFolder	Infino Mailbox"
reg=$(msiinfo export "$MSI" Registry)
for k in "infinoUrl	[INFINOURL]" "microsoft.clientId	[MSCLIENTID]" "microsoft.tenant	[MSTENANT]" "allowedMethods	[ALLOWEDMETHODS]" \
  "lockServerSettings	[LOCKSERVERSETTINGS]" "proxyUrl	[PROXYURL]" "extraCaFile	[EXTRACAFILE]" "language	[LANGUAGE]"; do
  expect "Registry table" "$reg" "2	SOFTWARE\\Policies\\Infino\\Mailbox	$k"
done
expect "summary" "$(msiinfo suminfo "$MSI")" "x64;1033"
rm -rf "$WORK/extract" && mkdir -p "$WORK/extract"
(cd "$WORK/extract" && msiextract "$MSI" >/dev/null)
inmsi=$(find "$WORK/extract" -name infino-mailbox-cli.exe | head -1)
if [ -n "$inmsi" ] && cmp -s "$inmsi" "$CLI"; then ok "the MSI carries the dist console exe"; else bad "the MSI's console exe differs from $CLI"; fi
if [ -n "${SIGN_CERT:-}" ]; then
  for f in "$MSI" "$EXE" "$CLI" "$inmsi"; do
    if osslsigncode verify -CAfile "$SIGN_CERT" -in "$f" 2>&1 | grep -q "Signature verification: ok"; then
      ok "signature verifies: $(basename "$f")"
    else bad "signature does not verify: $f"; fi
  done
fi

# --- Wine prefix ----------------------------------------------------------------
say "wine prefix"
WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
[ -x "$WINE" ] || { echo "wine64 is missing: apt-get install -y --no-install-recommends wine64" >&2; exit 1; }
export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset INFINO_MAILBOX_POLICY HTTPS_PROXY HTTP_PROXY https_proxy http_proxy DISPLAY WAYLAND_DISPLAY
rm -rf "$WINEPREFIX"
"$WINE" wineboot --init >/dev/null 2>&1 || true
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
"$wineserver" -w || true
sys32=$WINEPREFIX/drive_c/windows/system32
if [ ! -s "$sys32/bcryptprimitives.dll" ] || ! grep -q ProcessPrng "$sys32/bcryptprimitives.dll"; then
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "$WORK/bcryptprimitives.dll" .ci/wine/bcryptprimitives.c -lbcrypt
  cp "$WORK/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"
  echo "  (installed the bcryptprimitives.dll stub)"
fi
w() { "$WINE" "$@" 2>>"$WORK/wine-stderr.log"; }

# --- 2. the exes run -----------------------------------------------------------
say "exes under Wine"
out=$(w "$CLI" version) || bad "console exe: version exited $?"
expect "cli version" "$out" "$VERSION"
out=$(w "$CLI" discover --offline jan@interia.pl) || bad "console exe: discover exited $?"
expect "cli discover --offline" "$out" "poczta.interia.pl"
out=$(w "$CLI" discover --offline --json jan@interia.pl) || true
expect "cli discover --offline --json" "$out" '"email": "jan@interia.pl"'
w "$EXE" version >"$WORK/gui-version.txt" || bad "GUI exe: version exited $?"
expect "GUI exe, output redirected" "$(cat "$WORK/gui-version.txt")" "$VERSION"
set +e; w "$CLI" policy frobnicate >/dev/null 2>&1; code=$?; set -e
[ "$code" = 2 ] && ok "exit code of a usage error is 2" || bad "usage error exited $code, want 2"

# --- 3. silent install writes the machine policy ---------------------------------
say "msiexec /i /qn"
HKLM='HKLM\SOFTWARE\Policies\Infino\Mailbox' HKCU='HKCU\SOFTWARE\Policies\Infino\Mailbox'
# A user policy, to see the machine's win where both speak.
w reg add "$HKCU" /v infinoUrl /t REG_SZ /d https://user.example.invalid /f >/dev/null
w reg add "$HKCU" /v language /t REG_SZ /d en /f >/dev/null
set +e
w msiexec /i "$(w winepath -w "$MSI")" /qn /l*v "$(w winepath -w "$WORK/install.log")" \
  INFINOURL=https://kancelaria.infino.legal MSCLIENTID=11111111-2222-3333-4444-555555555555 \
  MSTENANT=kancelaria.onmicrosoft.com ALLOWEDMETHODS=microsoft LOCKSERVERSETTINGS=1 PROXYURL=direct
code=$?
set -e
[ "$code" = 0 ] && ok "msiexec /i /qn exited 0" || { bad "msiexec /i exited $code"; tail -30 "$WORK/install.log" | iconv -f utf-16le -t utf-8 2>/dev/null || true; }
"$wineserver" -w || true
installed="C:\\Program Files\\Infino\\Mailbox\\infino-mailbox-cli.exe"
[ -f "$WINEPREFIX/drive_c/Program Files/Infino/Mailbox/infino-mailbox.exe" ] && ok "installed into C:\\Program Files\\Infino\\Mailbox" || bad "no exe in Program Files"
lnk=$(find "$WINEPREFIX/drive_c" -iname 'Infino Mailbox.lnk' | head -1)
[ -n "$lnk" ] && ok "Start-menu entry: ${lnk#"$WINEPREFIX/drive_c/"}" || bad "no Start-menu shortcut"
expect "reg query" "$(w reg query "$HKLM")" "infinoUrl" "https://kancelaria.infino.legal" "lockServerSettings"
out=$(w "$installed" policy show) || bad "policy show exited $?"
expect "installed exe: policy show" "$out" \
  "infinoUrl            https://kancelaria.infino.legal               ($HKLM)" \
  "microsoft.clientId   11111111-2222-3333-4444-555555555555          ($HKLM)" \
  "microsoft.tenant     kancelaria.onmicrosoft.com                    ($HKLM)" \
  "allowedMethods       microsoft                                     ($HKLM)" \
  "lockServerSettings   true                                          ($HKLM)" \
  "proxyUrl             direct                                        ($HKLM)" \
  "microsoft.authority  https://login.microsoftonline.com             (default)" \
  "language             en                                            ($HKCU)" \
  "user     $HKCU" "machine  $HKLM" \
  "proxy for https://kancelaria.infino.legal: direct"
echo "$out" | sed 's/^/       | /'
w "$installed" policy check >/dev/null && ok "policy check passes" || bad "policy check failed"

w reg delete "$HKCU" /f >/dev/null

say "msiexec /x /qn"
set +e; w msiexec /x "$(w winepath -w "$MSI")" /qn; code=$?; set -e
"$wineserver" -w || true
[ "$code" = 0 ] && ok "msiexec /x exited 0" || bad "msiexec /x exited $code"
[ ! -e "$WINEPREFIX/drive_c/Program Files/Infino/Mailbox/infino-mailbox.exe" ] && ok "uninstall removed the files" || bad "files left after uninstall"
if w reg query "$HKLM" /v infinoUrl >/dev/null 2>&1; then bad "the machine policy is left after uninstall"; else ok "uninstall removed the machine policy"; fi

# The Windows system proxy (Internet Options: a fixed proxy with a bypass list
# including <local>), as WinHTTP reports it to the app, when neither the
# policy nor the environment names a proxy.
say "system proxy"
IS='HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections'
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
px=proxy.firm.local:3128 bypass='*.firm.local;<local>'
# version 0x46, counter, flags 3 (direct + fixed proxy), proxy, bypass, no PAC URL, padding
blob=$(le32 70)$(le32 1)$(le32 3)$(le32 ${#px})$(hex "$px")$(le32 ${#bypass})$(hex "$bypass")$(le32 0)$(printf '0%.0s' {1..64})
w reg add "$IS" /v DefaultConnectionSettings /t REG_BINARY /d "$blob" /f >/dev/null
for pair in "https://kancelaria.infino.legal|http://proxy.firm.local:3128" "https://dms.firm.local|direct" "https://intranet|direct"; do
  printf '{"infinoUrl": "%s"}' "${pair%%|*}" >"$WORK/proxy-policy.json"
  out=$(INFINO_MAILBOX_POLICY="$(w winepath -w "$WORK/proxy-policy.json")" w "$CLI" policy show) || true
  expect "system proxy" "$out" "proxy for ${pair%%|*}: ${pair#*|}"
done
w reg delete "$IS" /v DefaultConnectionSettings /f >/dev/null

# --- 4. Go tests under Wine ----------------------------------------------------------
say "go test under Wine: policy (registry reader), netconf"
if CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go test -count=1 -exec "$WINE" ./mailcfg/policy/ ./mailcfg/netconf/ >"$WORK/gotest.log" 2>&1; then
  ok "GOOS=windows go test ./mailcfg/policy/ ./mailcfg/netconf/ under Wine"
else
  bad "go test under Wine"; tail -40 "$WORK/gotest.log"
fi
grep -E '^(ok|FAIL|---)' "$WORK/gotest.log" | sed 's/^/       | /' || true

"$wineserver" -k 2>/dev/null || true
say "done"
echo "wine-check: $passes passed, $fails failed"
[ "$fails" = 0 ]
