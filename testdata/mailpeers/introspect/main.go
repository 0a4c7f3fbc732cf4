// Command introspect is the OAuth 2.0 token introspection endpoint (RFC 7662
// shape) that the test Dovecot asks when a client logs in with XOAUTH2 or
// OAUTHBEARER. A token is valid while DIR/<sha256-hex(token)> exists; that
// file's content is the JSON answer, e.g.
// {"active": true, "email": "test@example.test", "scope": "IMAP SMTP"}.
// Anything else gets {"active": false}. Tests add or revoke tokens by creating
// or deleting one file; nothing restarts.
//
// Started by testdata/mailpeers/up.sh; not part of the app.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9080", "listen address")
	dir := flag.String("tokens", "", "directory of token files named by sha256-hex(token)")
	pidfile := flag.String("pidfile", "", "write the process id here once listening")
	flag.Parse()
	if *dir == "" {
		log.Fatal("introspect: -tokens is required")
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // POST body and query string alike
		token := r.Form.Get("token")
		if token == "" {
			token = r.Form.Get("access_token")
		}
		if token == "" {
			token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		body := []byte(`{"active": false}`)
		if token != "" {
			sum := sha256.Sum256([]byte(token))
			if b, err := os.ReadFile(filepath.Join(*dir, hex.EncodeToString(sum[:]))); err == nil {
				body = b
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Fatal(http.Serve(ln, nil))
}
