package cli

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg/policy"
)

// TestVerifyCAFileBounded: --ca is read up to a bound (netconf.MaxCAFileSize),
// not whole whatever its size.
func TestVerifyCAFileBounded(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	srv.Close()
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, append([]byte(strings.Repeat("#\n", 2<<20)), block...), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeSettings(t, goodSettings())
	code, _, errOut := runVerifyCmd(t, "en", cliPassword+"\n", policy.Default(), "--password-stdin", "--ca", ca, path)
	if code != ExitUsage || !strings.Contains(errOut, "--ca") {
		t.Fatalf("a 4 MiB CA file was read whole: exit %d, stderr:\n%s", code, errOut)
	}
}
