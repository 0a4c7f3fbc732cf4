package infino_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"infino.legal/mailbox/mailcfg/infino"
)

// The API documents are a contract for Infino's backend team: their
// examples must be what the reference server accepts, and the schema must
// name every key the app sends.
func TestDocsMatchTheWire(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	get := func(v any, path ...string) any {
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("openapi.yaml: no %v", path)
			}
			v = m[p]
		}
		return v
	}
	if v := get(doc, "openapi"); v != "3.1.0" {
		t.Fatalf("openapi %v", v)
	}
	post := get(doc, "paths", "/api/v1/mailboxes", "post")
	examples := get(post, "requestBody", "content", "application/json", "examples").(map[string]any)

	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	for name, ex := range examples {
		body, err := json.Marshal(get(ex, "value"))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, e.sb.InfinoURL+infino.MailboxesPath, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Idempotency-Key", infino.NewUUID())
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.sb.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("example %q: the sandbox answered %d", name, resp.StatusCode)
		}
	}

	// Every key the app sends is in the schema; every required key is sent.
	props := get(doc, "components", "schemas", "MailboxSubmission", "properties").(map[string]any)
	required := get(doc, "components", "schemas", "MailboxSubmission", "required").([]any)
	c := &infino.Client{BaseURL: e.sb.InfinoURL, Tokens: &staticTokens{tok: access}, HTTP: e.sb.HTTPClient()}
	s := e.sb.DemoSettings()
	s.LowTrust = true
	if _, err := c.CreateMailbox(e.ctx(), infino.NewUUID(), infino.Submission{Settings: s,
		Secret: infino.PasswordSecret("pw-123456"), VerifiedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	json.Unmarshal(e.sb.Infino.LastRequest().Body, &sent)
	var keys []string
	for k := range sent {
		keys = append(keys, k)
		if _, ok := props[k]; !ok {
			t.Errorf("the app sends %q, which openapi.yaml does not describe", k)
		}
	}
	sort.Strings(keys)
	for _, r := range required {
		if _, ok := sent[r.(string)]; !ok {
			t.Errorf("openapi.yaml requires %q, which the app does not send (it sends %v)", r, keys)
		}
	}

	// The JSON examples in the prose are valid JSON.
	md, err := os.ReadFile("../../docs/infino-api.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) < 3 {
		t.Fatalf("%d JSON examples in infino-api.md", len(blocks))
	}
	for _, b := range blocks {
		if !json.Valid(b[1]) {
			t.Errorf("invalid JSON example in infino-api.md:\n%s", b[1])
		}
	}
}
