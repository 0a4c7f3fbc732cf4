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

// The replacement and the list as documented: the sandbox accepts the PUT
// examples against a mailbox made from the POST example, and what it
// answers (200, the list, a 409 that names the mailbox) uses only the
// documented keys and every required one.
func TestDocsReplaceAndListMatchTheWire(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	get := func(v any, path ...string) any {
		t.Helper()
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok || m[p] == nil {
				t.Fatalf("openapi.yaml: no %v", path)
			}
			v = m[p]
		}
		return v
	}
	info := get(doc, "components", "schemas", "MailboxInfo")
	props := get(info, "properties").(map[string]any)
	required := get(info, "required").([]any)
	checkInfo := func(what string, m map[string]any) {
		t.Helper()
		for k := range m {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: %q is not in MailboxInfo", what, k)
			}
		}
		for _, r := range required {
			if _, ok := m[r.(string)]; !ok {
				t.Errorf("%s: required %q missing", what, r)
			}
		}
	}

	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	do := func(method, path, ifMatch string, body []byte) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, e.sb.InfinoURL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Idempotency-Key", infino.NewUUID())
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := e.sb.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	post := get(doc, "paths", "/api/v1/mailboxes", "post", "requestBody", "content", "application/json", "examples", "password", "value")
	body, _ := json.Marshal(post)
	resp, _ := do(http.MethodPost, infino.MailboxesPath, "", body)
	created := resp.Header.Get("Location")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusCreated || created == "" || etag == "" {
		t.Fatalf("POST example: %d, Location %q, ETag %q", resp.StatusCode, created, etag)
	}
	// The same address again: 409 naming the mailbox, as documented.
	resp, m := do(http.MethodPost, infino.MailboxesPath, "", body)
	if resp.StatusCode != http.StatusConflict || m["error"] != "mailbox_exists" {
		t.Fatalf("409: %d %v", resp.StatusCode, m)
	}
	mb, _ := m["mailbox"].(map[string]any)
	checkInfo("409 mailbox", mb)
	if mb["etag"] != etag {
		t.Errorf("409 etag %v, ETag %q", mb["etag"], etag)
	}
	put := get(doc, "paths", "/api/v1/mailboxes/{id}", "put", "requestBody", "content", "application/json", "examples").(map[string]any)
	for name, ex := range put {
		body, _ := json.Marshal(get(ex, "value"))
		resp, m := do(http.MethodPut, created, etag, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT example %q: %d %v", name, resp.StatusCode, m)
		}
		checkInfo("PUT answer", m)
		etag = resp.Header.Get("ETag")
	}
	resp, m = do(http.MethodGet, infino.MailboxesPath, "", nil)
	list, _ := m["mailboxes"].([]any)
	if resp.StatusCode != http.StatusOK || len(list) != 1 {
		t.Fatalf("GET: %d %v", resp.StatusCode, m)
	}
	checkInfo("GET item", list[0].(map[string]any))
	for _, ex := range []any{
		get(doc, "paths", "/api/v1/mailboxes", "get", "responses", "200", "content", "application/json", "example", "mailboxes").([]any)[0],
		get(doc, "paths", "/api/v1/mailboxes/{id}", "put", "responses", "200", "content", "application/json", "example"),
	} {
		checkInfo("documented example", ex.(map[string]any))
	}
}
