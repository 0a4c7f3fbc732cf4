package oauthloopback

import (
	"bytes"
	"crypto/subtle"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PageText holds the texts of the browser pages in one language. All fields
// are plain text; they are HTML-escaped when rendered.
type PageText struct {
	Lang    string // BCP 47 tag for the lang attribute, e.g. "pl"
	Title   string // page title
	Success string // the sign-in completed
	Failure string // the token exchange failed or the app stopped waiting
	Denied  string // the provider redirected with an error
	Pending string // the response arrived, the result is not known yet
	Invalid string // a request with a wrong/expired state or malformed query
	Close   string // "you can close this tab"
	Details string // label in front of the provider's error text
}

var (
	textPolish = PageText{
		Lang:    "pl",
		Title:   "Logowanie",
		Success: "Zalogowano pomyślnie.",
		Failure: "Logowanie nie powiodło się. Szczegóły znajdziesz w aplikacji.",
		Denied:  "Logowanie zostało anulowane lub odrzucone.",
		Pending: "Odpowiedź została przekazana do aplikacji.",
		Invalid: "Ten link logowania jest nieprawidłowy lub wygasł.",
		Close:   "Możesz zamknąć tę kartę i wrócić do aplikacji.",
		Details: "Szczegóły",
	}
	textEnglish = PageText{
		Lang:    "en",
		Title:   "Sign-in",
		Success: "You are signed in.",
		Failure: "Sign-in failed. See the application for details.",
		Denied:  "Sign-in was cancelled or denied.",
		Pending: "The response has been passed to the application.",
		Invalid: "This sign-in link is invalid or has expired.",
		Close:   "You can close this tab and return to the application.",
		Details: "Details",
	}
)

// PagesFor returns the built-in page texts for lang: "pl" → Polish,
// "en" → English, anything else → Polish and English side by side.
func PagesFor(lang string) []PageText {
	switch strings.ToLower(lang) {
	case "pl":
		return []PageText{textPolish}
	case "en":
		return []PageText{textEnglish}
	}
	return []PageText{textPolish, textEnglish}
}

type pageKind int

const (
	pageSuccess pageKind = iota
	pageFailure
	pageDenied
	pagePending
	pageInvalid
)

func (k pageKind) text(t PageText) string {
	switch k {
	case pageSuccess:
		return t.Success
	case pageFailure:
		return t.Failure
	case pageDenied:
		return t.Denied
	case pagePending:
		return t.Pending
	}
	return t.Invalid
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:3rem 1rem;color:#1b1b1b;background:#fafafa;line-height:1.5}
main{display:flex;flex-wrap:wrap;gap:2rem;justify-content:center}section{flex:1 1 18rem;max-width:26rem}
h1{font-size:1.3rem;margin:0 0 .5rem}pre{white-space:pre-wrap;word-break:break-word;background:#eee;padding:.5rem;font-size:.85rem}</style>
</head><body><main>
{{- range .Sections}}
<section lang="{{.Lang}}"><h1>{{.Heading}}</h1>
{{- if $.Details}}<p>{{.DetailsLabel}}:</p><pre>{{$.Details}}</pre>{{end}}
<p>{{.Close}}</p></section>
{{- end}}
</main></body></html>
`))

type pageSection struct {
	Lang, Heading, DetailsLabel, Close string
}

const maxDetails = 1000 // runes of provider error text shown

// writePage renders a page of the given kind. details is plain text.
func (l *loopback) writePage(w http.ResponseWriter, status int, kind pageKind, details string) {
	data := struct {
		Lang, Title, Details string
		Sections             []pageSection
	}{Details: truncate(details, maxDetails)}
	var titles []string
	for i, t := range l.pages {
		if i == 0 {
			data.Lang = t.Lang
		}
		if t.Title != "" && !slices.Contains(titles, t.Title) {
			titles = append(titles, t.Title)
		}
		data.Sections = append(data.Sections, pageSection{Lang: t.Lang, Heading: kind.text(t), DetailsLabel: t.Details, Close: t.Close})
	}
	data.Title = strings.Join(titles, " / ")
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // nothing to do for a vanished browser
}

func setSecurityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// serveHTTP handles every request to the loopback listener. Only a GET on
// the redirect path with a well-formed response and the session's state is
// accepted, and only the first such request is handed to Wait.
func (s *Session) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	p, err := parseRedirect(r.URL.RawQuery)
	if err != nil || !s.stateMatches(p.State) {
		s.writePage(w, http.StatusBadRequest, pageInvalid, "")
		return
	}

	p.IssuerOK = s.issuerOK(p.Iss)
	accepted, done := s.accept(p)
	if accepted == nil { // the session ended before any redirect arrived
		s.writePage(w, http.StatusBadRequest, pageInvalid, "")
		return
	}
	w.Header().Set("Connection", "close")
	if !accepted.IssuerOK {
		s.writePage(w, http.StatusOK, pageFailure, "")
		return
	}
	if accepted.Error != "" {
		details := accepted.Error
		if accepted.ErrorDescription != "" {
			details += ": " + accepted.ErrorDescription
		}
		s.writePage(w, http.StatusOK, pageDenied, details)
		return
	}
	// Wait (bounded) for the token exchange, so the page tells the truth.
	t := time.NewTimer(pageWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	o := s.outcome
	s.mu.Unlock()
	switch o {
	case outcomeSuccess:
		s.writePage(w, http.StatusOK, pageSuccess, "")
	case outcomeFailure, outcomeDenied:
		s.writePage(w, http.StatusOK, pageFailure, "")
	default:
		s.writePage(w, http.StatusOK, pagePending, "")
	}
}

// accept records the first valid redirect and hands it to Wait. It returns
// the accepted redirect (which may be an earlier one: repeated deliveries
// are never handed over twice) and a channel closed when the outcome is
// final, or nil if the session ended without accepting a redirect.
func (s *Session) accept(p redirectParams) (*redirectParams, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accepted == nil {
		if s.closed || s.ctx.Err() != nil {
			return nil, nil
		}
		s.accepted = &p
		s.resultCh <- p // buffered; happens exactly once
	}
	return s.accepted, s.done
}

// issuerOK applies RFC 9207 §2.4: with a known issuer, an "iss" that is
// present must equal it exactly, and one that is absent is refused when the
// server is known to send it; without one, IssuerMatch judges an "iss"
// that arrives.
func (s *Session) issuerOK(iss string) bool {
	switch {
	case s.issuer == "" && iss != "" && s.issuerMatch != nil:
		return s.issuerMatch(iss)
	case s.issuer == "":
		return true
	case iss == "":
		return !s.requireIssuer
	default:
		return subtle.ConstantTimeCompare([]byte(iss), []byte(s.issuer)) == 1
	}
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
