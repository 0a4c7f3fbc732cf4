#!/usr/bin/env bash
# A throwaway self-signed code-signing certificate, valid two days, for CI to
# prove the Authenticode signing step. Never for releases.
#   eval "$(bash .ci/windows/test-cert.sh build/testcert)"   # exports SIGN_CERT, SIGN_KEY
set -euo pipefail
dir=${1:-build/testcert}
mkdir -p "$dir"
openssl req -x509 -newkey rsa:3072 -nodes -days 2 -keyout "$dir/key.pem" -out "$dir/cert.pem" \
  -subj "/CN=Infino Mailbox CI test signing/O=Infino Legal (test only)" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
echo "export SIGN_CERT=$(cd "$dir" && pwd)/cert.pem SIGN_KEY=$(cd "$dir" && pwd)/key.pem"
