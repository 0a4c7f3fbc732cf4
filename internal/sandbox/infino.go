package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/mailcfg"
)

// InfinoScope is the scope that allows adding mailboxes.
const InfinoScope = "mailboxes:write"

// Infino is the sandbox Infino Legal server: the mailbox API of
// docs/infino-api.md and its OAuth authorization server. It keeps
// everything in memory. The methods are the tests' hooks.
type Infino struct {
	as       *fakeidp.Server
	issuer   string // https base URL, with prefix
	authBase string // base of the authorization endpoint (the issuer)
	prefix   string // the issuer's path ("" or e.g. "/tenant/infino")
	now      func() time.Time
	done     <-chan struct{} // closed when the sandbox stops

	mu        sync.Mutex
	mailboxes []*Mailbox
	byKey     map[string]*stored
	byEmail   map[string]*Mailbox
	faults    []Fault
	holds     []chan struct{}
	reject401 int
	requests  []Request
	metadata  int
	seq       int
	profile   AuthProfile
}

// Mailbox is one mailbox the sandbox Infino holds.
type Mailbox struct {
	ID             string
	Email          string
	IdempotencyKey string
	// Body is the request body as received (it contains the secret).
	Body       json.RawMessage
	Settings   mailcfg.Settings
	SecretType string
	// Password is the password of a password secret (tests compare it).
	Password   string
	VerifiedAt time.Time
	Client     map[string]string
	Created    time.Time
	// Updated is when PUT last replaced the settings; Version counts the
	// replacements (the ETag is derived from it).
	Updated time.Time
	Version int
	// State is what GET /api/v1/mailboxes reports: "active" (default).
	State string
}

// ETag is the entity tag of the mailbox's current settings.
func (m *Mailbox) ETag() string { return fmt.Sprintf("\"%s-v%d\"", m.ID, m.Version) }

// Request is one API request as the sandbox saw it.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Status       int // what the sandbox answered (0: held, no answer)
}

// Fault is an answer the sandbox gives instead of handling the next API
// requests.
type Fault struct {
	Status int
	// RetryAfter is sent as the Retry-After header if not empty.
	RetryAfter string
	// Body is the JSON body; empty means {"error":"<status text>"}.
	Body string
	// Count is how many requests get this answer (default 1).
	Count int
}

type stored struct {
	hash   [32]byte
	status int
	header http.Header
	body   []byte
}

// infinoAccount is who signs in at the sandbox Infino.
var infinoAccount = fakeidp.Account{PreferredUsername: DemoInfinoUser, Name: "Kancelaria (sandbox)"}

func newInfino(issuer, authBase, clientID string, now func() time.Time, page bool, done <-chan struct{}) (*Infino, error) {
	s := &Infino{
		issuer: issuer, authBase: authBase, now: now, done: done,
		byKey: map[string]*stored{}, byEmail: map[string]*Mailbox{},
	}
	if u, err := url.Parse(issuer); err == nil {
		s.prefix = strings.TrimRight(u.Path, "/")
	}
	as, err := fakeidp.New(fakeidp.Profile{
		Name: "Infino Legal", ClientID: clientID,
		AuthorizePath: "/oauth/authorize", TokenPath: "/oauth/token",
		ScopesOK:    func(sc []string) bool { return slices.Contains(sc, InfinoScope) },
		GrantScopes: s.grantScopes,
		IssParam:    s.issParam,
		RefreshOK:   s.refreshAllowed,
		// What docs/infino-api.md asks of Infino: a rotated refresh token
		// stays usable for a while (see there).
		ReuseGrace: 2 * time.Minute,
	}, issuer, fakeidp.Options{Page: page, Now: now, Account: infinoAccount})
	if err != nil {
		return nil, err
	}
	s.as = as
	return s, nil
}

// routes serves the authorization server and the API below the issuer's
// path; the RFC 8414 metadata lives at /.well-known/oauth-authorization-server
// followed by that path (RFC 8414 §3.1), the OpenID Connect discovery
// document at the path followed by /.well-known/openid-configuration.
func (s *Infino) routes(mux *http.ServeMux) {
	p := s.prefix
	mux.HandleFunc("GET /.well-known/oauth-authorization-server"+p, func(w http.ResponseWriter, r *http.Request) {
		s.serveMetadata(w, r, false)
	})
	mux.HandleFunc("GET "+p+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.serveMetadata(w, r, true)
	})
	s.as.Mount(mux, p)
	mux.HandleFunc("POST "+p+"/api/v1/mailboxes", s.serveCreate)
	mux.HandleFunc("GET "+p+"/api/v1/mailboxes", s.serveList)
	mux.HandleFunc("PUT "+p+"/api/v1/mailboxes/{id}", s.serveReplace)
}

// Metadata is the RFC 8414 document the sandbox serves.
func (s *Infino) Metadata() map[string]any {
	p := s.Profile()
	scopes := []string{InfinoScope}
	if p.OfflineAccess {
		scopes = append(scopes, "openid", "offline_access")
	}
	m := map[string]any{
		"issuer":                                s.issuer,
		"authorization_endpoint":                s.authBase + "/oauth/authorize",
		"token_endpoint":                        s.issuer + "/oauth/token",
		"scopes_supported":                      scopes,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
	}
	if p.IssParameter {
		m["authorization_response_iss_parameter_supported"] = true
	}
	if p.OfflineAccess {
		m["prompt_values_supported"] = []string{"none", "login", "consent"}
	}
	if p.MetadataIssuer != "" {
		m["issuer"] = p.MetadataIssuer
	}
	return m
}

func (s *Infino) serveMetadata(w http.ResponseWriter, r *http.Request, openID bool) {
	p := s.Profile()
	s.mu.Lock()
	s.metadata++
	s.mu.Unlock()
	if p.NoMetadata || (!openID && p.OpenIDOnly) {
		writeJSON(w, http.StatusNotFound, errBody("not_found", "no such document"), nil)
		return
	}
	m := s.Metadata()
	if openID {
		// What OpenID Connect Discovery 1.0 also requires.
		m["jwks_uri"] = s.issuer + "/oauth/jwks"
		m["subject_types_supported"] = []string{"public"}
		m["id_token_signing_alg_values_supported"] = []string{"RS256"}
	}
	writeJSON(w, http.StatusOK, m, nil)
}

// keyRE is compiled on first use: {16,255} makes a large program, which
// every process would otherwise build at start-up.
var keyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._:-]{16,255}$`) })

func (s *Infino) serveCreate(w http.ResponseWriter, r *http.Request) { s.serveWrite(w, r, "") }

// serveReplace is PUT /api/v1/mailboxes/{id}: the same body as a creation,
// guarded by If-Match, idempotent by Idempotency-Key.
func (s *Infino) serveReplace(w http.ResponseWriter, r *http.Request) {
	s.serveWrite(w, r, r.PathValue("id"))
}

// apiCall is one API request being answered; finish records it.
type apiCall struct {
	s      *Infino
	w      http.ResponseWriter
	req    Request
	status int
}

func (s *Infino) begin(w http.ResponseWriter, r *http.Request) (*apiCall, []byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	return &apiCall{s: s, w: w, req: Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}}, body, err
}

func (c *apiCall) reply(st int, v any, h http.Header) {
	c.status = st
	writeJSON(c.w, st, v, h)
}

func (c *apiCall) finish() {
	c.req.Status = c.status
	c.s.mu.Lock()
	c.s.requests = append(c.s.requests, c.req)
	c.s.mu.Unlock()
}

// authorize checks the fault queue, the token and its scope; false means
// the answer has been given.
func (c *apiCall) authorize(r *http.Request, scopes ...string) bool {
	s, w := c.s, c.w
	if f, ok := s.takeFault(); ok {
		c.status = f.Status
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		if f.Body != "" {
			io.WriteString(w, f.Body)
		} else {
			json.NewEncoder(w).Encode(errBody(strings.ReplaceAll(strings.ToLower(http.StatusText(f.Status)), " ", "_"), "injected by the sandbox"))
		}
		return false
	}
	tok := bearer(r)
	_, ok := s.as.ValidAccessToken(tok)
	if ok && s.take401() {
		ok = false
	}
	if !ok {
		h := http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}
		c.reply(http.StatusUnauthorized, errBody("invalid_token", "sign in again"), h)
		return false
	}
	for _, sc := range scopes {
		if s.as.HasScope(tok, sc) {
			return true
		}
	}
	h := http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="` + scopes[0] + `"`}}
	c.reply(http.StatusForbidden, errBody("insufficient_scope", "the token lacks "+scopes[0]), h)
	return false
}

// serveWrite creates a mailbox (id "") or replaces the settings of mailbox
// id. The stored answer of a key is replayed before anything else is
// checked, so that a retry after a lost answer gets that answer even though
// the mailbox's ETag has changed since.
func (s *Infino) serveWrite(w http.ResponseWriter, r *http.Request, id string) {
	c, body, err := s.begin(w, r)
	defer c.finish()
	if err != nil {
		c.reply(http.StatusBadRequest, errBody("bad_request", "unreadable body"), nil)
		return
	}
	if len(body) > 64<<10 {
		c.reply(http.StatusRequestEntityTooLarge, errBody("too_large", "the body is larger than 64 KiB"), nil)
		return
	}
	if !c.authorize(r, InfinoScope) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.reply(http.StatusUnsupportedMediaType, errBody("unsupported_media_type", "send application/json"), nil)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if !keyRE().MatchString(key) {
		c.reply(http.StatusBadRequest, errBody("idempotency_key_required", "send an Idempotency-Key header (a UUID)"), nil)
		return
	}
	pl := prefersPolish(r.Header.Get("Accept-Language"))
	// The fingerprint covers the method and the path: a key is bound to
	// one operation on one resource.
	hash := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))

	s.mu.Lock()
	if st := s.byKey[key]; st != nil {
		s.mu.Unlock()
		if st.hash != hash {
			c.reply(http.StatusUnprocessableEntity, errBody("idempotency_key_reused", "this Idempotency-Key was used with a different request"), nil)
			return
		}
		c.status = st.status
		for k, v := range st.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(st.status)
		w.Write(st.body)
		return
	}
	s.mu.Unlock()

	ifMatch := r.Header.Get("If-Match")
	if id != "" && ifMatch == "" {
		c.reply(http.StatusPreconditionRequired, errBody("precondition_required", "send If-Match with the mailbox's ETag"), nil)
		return
	}
	mb, fields := s.decode(body, pl)
	if len(fields) > 0 {
		c.reply(http.StatusBadRequest, map[string]any{"error": "invalid_settings", "errors": fields}, nil)
		return
	}

	s.mu.Lock()
	if st := s.byKey[key]; st != nil { // a concurrent twin won
		s.mu.Unlock()
		c.reply(http.StatusConflict, errBody("request_in_progress", "the same Idempotency-Key is being processed"), http.Header{"Retry-After": {"1"}})
		return
	}
	st := &stored{hash: hash, header: http.Header{}}
	if id == "" {
		s.createLocked(mb, key, st)
	} else if !s.replaceLocked(id, ifMatch, mb, key, st, pl) {
		s.mu.Unlock()
		c.reply(st.status, json.RawMessage(st.body), nil)
		return
	}
	s.byKey[key] = st
	var hold chan struct{}
	if len(s.holds) > 0 && st.status < 300 {
		hold, s.holds = s.holds[0], s.holds[1:]
	}
	s.mu.Unlock()

	if hold != nil {
		// Committed, but the answer never leaves: the client sees a lost
		// response (or is killed meanwhile).
		close(hold)
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	c.status = st.status
	for k, v := range st.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st.status)
	w.Write(st.body)
}

func (s *Infino) createLocked(mb *Mailbox, key string, st *stored) {
	if old := s.byEmail[mb.Email]; old != nil {
		st.status = http.StatusConflict
		st.body = mustJSON(map[string]any{"error": "mailbox_exists", "message": "this mailbox is already connected",
			"mailbox": old.info()})
		return
	}
	s.seq++
	mb.ID = fmt.Sprintf("mbx_%06d", s.seq)
	mb.IdempotencyKey = key
	mb.Created = s.now()
	mb.Version = 1
	s.mailboxes = append(s.mailboxes, mb)
	s.byEmail[mb.Email] = mb
	st.status = http.StatusCreated
	st.body = mustJSON(map[string]string{"id": mb.ID, "email": mb.Email})
	st.header.Set("Location", s.prefix+"/api/v1/mailboxes/"+mb.ID)
	st.header.Set("ETag", mb.ETag())
}

// replaceLocked applies a PUT; false means it was refused (st holds the
// answer, which is not stored under the key).
func (s *Infino) replaceLocked(id, ifMatch string, mb *Mailbox, key string, st *stored, pl bool) bool {
	var cur *Mailbox
	for _, m := range s.mailboxes {
		if m.ID == id {
			cur = m
		}
	}
	switch {
	case cur == nil:
		st.status = http.StatusNotFound
		st.body = mustJSON(errBody("mailbox_not_found", "no such mailbox in this account"))
		return false
	case ifMatch != "*" && ifMatch != cur.ETag():
		st.status = http.StatusPreconditionFailed
		st.body = mustJSON(map[string]any{"error": "precondition_failed",
			"message": "the mailbox was changed since (If-Match does not match its ETag)", "mailbox": cur.info()})
		return false
	case mb.Email != cur.Email:
		st.status = http.StatusBadRequest
		st.body = mustJSON(map[string]any{"error": "invalid_settings", "errors": []wireFieldError{{Field: "email", Code: "email_mismatch",
			Message: msg(mailcfg.Text{PL: "Adres nie zgadza się z zastępowaną skrzynką.", EN: "The address differs from the mailbox being replaced."}, pl)}}})
		return false
	}
	cur.Body, cur.Settings, cur.SecretType, cur.Password = mb.Body, mb.Settings, mb.SecretType, mb.Password
	cur.VerifiedAt, cur.Client = mb.VerifiedAt, mb.Client
	cur.Updated = s.now()
	cur.Version++
	cur.IdempotencyKey = key
	st.status = http.StatusOK
	st.body = mustJSON(cur.info())
	st.header.Set("ETag", cur.ETag())
	return true
}

// MailboxInfo is a mailbox as the API describes it.
type MailboxInfo struct {
	ID             string    `json:"id"`
	Email          string    `json:"email"`
	State          string    `json:"state"`
	LastVerifiedAt time.Time `json:"lastVerifiedAt,omitzero"`
	CreatedAt      time.Time `json:"createdAt,omitzero"`
	UpdatedAt      time.Time `json:"updatedAt,omitzero"`
	ETag           string    `json:"etag"`
}

func (m *Mailbox) info() MailboxInfo {
	st := m.State
	if st == "" {
		st = "active"
	}
	return MailboxInfo{ID: m.ID, Email: m.Email, State: st, LastVerifiedAt: m.VerifiedAt.UTC(),
		CreatedAt: m.Created.UTC().Truncate(time.Second), UpdatedAt: m.Updated.UTC().Truncate(time.Second), ETag: m.ETag()}
}

// serveList is GET /api/v1/mailboxes: the account's mailboxes.
func (s *Infino) serveList(w http.ResponseWriter, r *http.Request) {
	c, _, _ := s.begin(w, r)
	defer c.finish()
	if !c.authorize(r, InfinoScope, "mailboxes:read") {
		return
	}
	s.mu.Lock()
	list := []MailboxInfo{}
	for _, m := range s.mailboxes {
		list = append(list, m.info())
	}
	s.mu.Unlock()
	c.reply(http.StatusOK, map[string]any{"mailboxes": list}, nil)
}

// wireBody is what the app sends (docs/infino-api.md).
type wireBody struct {
	mailcfg.Settings
	Secret *struct {
		Type         string   `json:"type"`
		Password     string   `json:"password"`
		Provider     string   `json:"provider"`
		RefreshToken string   `json:"refreshToken"`
		ClientID     string   `json:"clientId"`
		Tenant       string   `json:"tenant"`
		Scopes       []string `json:"scopes"`
	} `json:"secret"`
	VerifiedAt string            `json:"verifiedAt"`
	Client     map[string]string `json:"client"`
}

type wireFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Infino) decode(body []byte, pl bool) (*Mailbox, []wireFieldError) {
	var b wireBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, []wireFieldError{{Field: "", Code: "json", Message: err.Error()}}
	}
	var out []wireFieldError
	if err := b.Settings.Validate(mailcfg.ValidateOptions{}); err != nil {
		for _, fe := range err.(mailcfg.ValidationError) {
			out = append(out, wireFieldError{Field: fe.Field, Code: fe.Code, Message: msg(fe.Message, pl)})
		}
	}
	add := func(field, code, pol, eng string) {
		out = append(out, wireFieldError{Field: field, Code: code, Message: msg(mailcfg.Text{PL: pol, EN: eng}, pl)})
	}
	mb := &Mailbox{Email: strings.ToLower(b.Email), Body: json.RawMessage(body), Settings: b.Settings, Client: b.Client}
	switch {
	case b.Secret == nil:
		add("secret", "secret_missing", "Brak danych logowania.", "The secret is missing.")
	case b.Secret.Type == "password":
		if b.Secret.Password == "" {
			add("secret.password", "password_empty", "Hasło jest puste.", "The password is empty.")
		}
		if b.Auth != mailcfg.AuthPassword {
			add("auth", "auth_mismatch", "Sposób logowania nie pasuje do hasła.", "The sign-in method does not match a password.")
		}
		mb.SecretType, mb.Password = "password", b.Secret.Password
	case b.Secret.Type == "oauth2":
		if b.Secret.RefreshToken == "" || b.Secret.ClientID == "" || b.Secret.Provider == "" {
			add("secret", "oauth2_incomplete", "Brak tokenu odświeżania.", "The refresh token is missing.")
		}
		if b.Auth != mailcfg.AuthOAuth2 {
			add("auth", "auth_mismatch", "Sposób logowania nie pasuje do tokenu.", "The sign-in method does not match a token.")
		}
		mb.SecretType = "oauth2"
	default:
		add("secret.type", "secret_type", "Nieznany rodzaj danych logowania.", "Unknown secret type.")
	}
	if t, err := time.Parse(time.RFC3339, b.VerifiedAt); err != nil {
		add("verifiedAt", "verified_at", "Brak daty weryfikacji.", "verifiedAt must be an RFC 3339 time.")
	} else {
		mb.VerifiedAt = t
	}
	if b.Client["name"] == "" || b.Client["version"] == "" {
		add("client", "client", "Brak opisu programu.", "client.name and client.version are required.")
	}
	return mb, out
}

// prefersPolish reads the first language of Accept-Language.
func prefersPolish(h string) bool {
	first, _, _ := strings.Cut(h, ",")
	first, _, _ = strings.Cut(first, ";")
	return mailcfg.IsPolish(first)
}

func msg(t mailcfg.Text, pl bool) string {
	if pl {
		return t.PL
	}
	return t.EN
}

func errBody(code, message string) map[string]string {
	return map[string]string{"error": code, "message": message}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any, h http.Header) {
	for k, vv := range h {
		w.Header()[k] = vv
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Infino) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := &s.faults[0]
	out := *f
	f.Count--
	if f.Count <= 0 {
		s.faults = s.faults[1:]
	}
	return out, true
}

func (s *Infino) take401() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reject401 > 0 {
		s.reject401--
		return true
	}
	return false
}

// --- hooks for tests ---

// Inject queues a fault: the next Count API requests get it instead of
// being handled.
func (s *Infino) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// FailNext answers the next n API requests with status (and Retry-After if
// not empty).
func (s *Infino) FailNext(n, status int, retryAfter string) {
	s.Inject(Fault{Status: status, RetryAfter: retryAfter, Count: n})
}

// ClearFaults drops the faults not used up yet.
func (s *Infino) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// RejectTokens answers the next n API requests 401, whatever the token.
func (s *Infino) RejectTokens(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject401 = n
}

// HoldNext makes the next request that creates a mailbox or replaces its
// settings commit that and then never answer (until the client goes away or
// the sandbox stops). The channel is closed once the change is committed: a
// test then kills the client "between sent and response received".
func (s *Infino) HoldNext() <-chan struct{} {
	c := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds = append(s.holds, c)
	return c
}

// AddMailbox records a mailbox as if created earlier (a later submission for
// the same address gets 409 mailbox_exists).
func (s *Infino) AddMailbox(email string) *Mailbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	mb := &Mailbox{ID: fmt.Sprintf("mbx_%06d", s.seq), Email: strings.ToLower(email), Created: s.now(), Version: 1}
	s.mailboxes = append(s.mailboxes, mb)
	s.byEmail[mb.Email] = mb
	return mb
}

// Mailboxes returns copies of the mailboxes, in creation order.
func (s *Infino) Mailboxes() []Mailbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mailbox, len(s.mailboxes))
	for i, m := range s.mailboxes {
		out[i] = *m
	}
	return out
}

// Count is the number of mailboxes.
func (s *Infino) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mailboxes)
}

// Requests returns the API requests seen so far.
func (s *Infino) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// LastRequest is the last API request seen (nil if none).
func (s *Infino) LastRequest() *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return nil
	}
	r := s.requests[len(s.requests)-1]
	return &r
}

// MetadataRequests counts fetches of the RFC 8414 document.
func (s *Infino) MetadataRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metadata
}

// AuthStats counts what the authorization server was asked.
type AuthStats = fakeidp.Stats

// AuthStats counts what the authorization server was asked.
func (s *Infino) AuthStats() AuthStats { return s.as.Stats() }

// Mint issues tokens without the browser (scope mailboxes:write).
func (s *Infino) Mint() (access, refresh string) {
	return s.as.Mint(infinoAccount, []string{InfinoScope})
}

// MintScopes issues tokens with the given scopes.
func (s *Infino) MintScopes(scopes ...string) (access, refresh string) {
	return s.as.Mint(infinoAccount, scopes)
}

// RevokeAccessTokens makes every access token invalid; refresh tokens still
// work (the app's next request gets 401 and refreshes).
func (s *Infino) RevokeAccessTokens() { s.as.RevokeAccessTokens() }

// RevokeAll makes every token invalid: the app must sign in again.
func (s *Infino) RevokeAll() { s.as.RevokeAll() }

// DenyNextSignIn makes the next n authorization requests end with
// access_denied.
func (s *Infino) DenyNextSignIn(n int) { s.as.DenyNextSignIn(n) }

// Wait blocks until n mailboxes exist or ctx ends.
func (s *Infino) Wait(ctx context.Context, n int) error {
	for s.Count() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func errorf(format string, a ...any) error { return fmt.Errorf("sandbox: "+format, a...) }
