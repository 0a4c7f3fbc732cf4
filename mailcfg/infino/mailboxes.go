package infino

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// MailboxInfo is a mailbox as Infino describes it: in GET
// /api/v1/mailboxes, and in a 409 mailbox_exists or 412 answer.
type MailboxInfo struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// State is Infino's word for the mailbox: "active", "failing"
	// (Infino cannot sign in to it any more), "disabled", …
	State          string    `json:"state,omitempty"`
	LastVerifiedAt time.Time `json:"lastVerifiedAt,omitzero"`
	CreatedAt      time.Time `json:"createdAt,omitzero"`
	UpdatedAt      time.Time `json:"updatedAt,omitzero"`
	// ETag guards a replacement: PUT sends it as If-Match.
	ETag string `json:"etag,omitempty"`
}

// clean makes server text safe to show and keep; nil when the mailbox
// cannot be addressed.
func (m *MailboxInfo) clean() *MailboxInfo {
	if m == nil || !mailboxIDOK(m.ID) {
		return nil
	}
	c := *m
	c.Email = serverText(c.Email, 320)
	c.State = serverText(c.State, 40)
	c.ETag = serverText(c.ETag, 200)
	return &c
}

// mailboxIDOK accepts ids that are safe as one URL path segment.
func mailboxIDOK(id string) bool {
	if id == "" || len(id) > 200 || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '~') {
			return false
		}
	}
	return true
}

// MailboxPath is the path of one mailbox below the Infino URL.
func MailboxPath(id string) string { return MailboxesPath + "/" + url.PathEscape(id) }

// ReplaceMailbox replaces the settings and secret of the mailbox target
// (PUT /api/v1/mailboxes/{id}) with If-Match: target.ETag, with the
// retries and the Idempotency-Key rules of CreateMailbox. A 412 or 404 is
// KindChanged: the mailbox changed since the ETag was read.
func (c *Client) ReplaceMailbox(ctx context.Context, key string, target MailboxInfo, sub Submission) (Receipt, error) {
	if !mailboxIDOK(target.ID) || target.ETag == "" {
		return Receipt{}, &Error{Kind: KindConfig, Err: fmt.Errorf("no mailbox id or ETag to replace"), Message: messages[KindConfig]}
	}
	return c.write(ctx, http.MethodPut, MailboxPath(target.ID), key, target.ETag, sub)
}

// ListMailboxes returns the mailboxes of the signed-in account (GET
// /api/v1/mailboxes), renewing the token once after a 401.
func (c *Client) ListMailboxes(ctx context.Context) ([]MailboxInfo, error) {
	base, err := CheckBaseURL(c.BaseURL)
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: err, Message: messages[KindConfig]}
	}
	if c.Tokens == nil {
		return nil, &Error{Kind: KindConfig, Err: errors.New("no token source"), Message: messages[KindConfig]}
	}
	info := c.Info
	if info.Name == "" {
		info = DefaultClientInfo()
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	token, err := c.Tokens.Token(ctx)
	if err != nil {
		return nil, tokenErr(ctx, err)
	}
	hc := c.httpClient()
	for renewed := false; ; renewed = true {
		list, e := c.list(ctx, hc, base+MailboxesPath, token, info, now)
		if e == nil {
			return list, nil
		}
		if e.Kind != KindUnauthorized || renewed {
			return nil, e
		}
		if token, err = c.Tokens.Renew(ctx, token); err != nil {
			return nil, tokenErr(ctx, err)
		}
	}
}

func (c *Client) list(ctx context.Context, hc *http.Client, u, token string, info ClientInfo, now func() time.Time) ([]MailboxInfo, *Error) {
	timeout := c.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, newError(KindConfig, 0, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", acceptLanguage(c.Lang))
	req.Header.Set("User-Agent", info.userAgent())
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(parent, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxListResponse+1))
	if err == nil && len(data) > maxListResponse {
		err = errors.New("infino: mailbox list larger than 1 MiB")
	}
	if err != nil {
		return nil, transportError(parent, err)
	}
	if resp.StatusCode != http.StatusOK {
		_, e := classify(resp, data, now, false)
		if e == nil {
			e = newError(KindRejected, resp.StatusCode, errors.New("unexpected answer"))
		}
		return nil, e
	}
	var body struct {
		Mailboxes []MailboxInfo `json:"mailboxes"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, newError(KindUnavailable, resp.StatusCode, fmt.Errorf("unreadable mailbox list: %v", err))
	}
	out := make([]MailboxInfo, 0, len(body.Mailboxes))
	for i := range body.Mailboxes {
		if m := body.Mailboxes[i].clean(); m != nil {
			out = append(out, *m)
		}
	}
	return out, nil
}

// maxListResponse bounds what is read of the mailbox list.
const maxListResponse = 1 << 20
