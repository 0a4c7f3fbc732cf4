package netconf

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-ieproxy"
	"golang.org/x/net/http/httpproxy"
)

// fromIEConf turns a system proxy configuration, as go-ieproxy reads it
// from Windows (Internet Options / WinHTTP) or macOS, into a proxy
// function; nil when the system says "no proxy". pac evaluates the PAC
// script for a URL ("" for DIRECT or failure). It mends go-ieproxy's known
// gaps: PAC answers and static entries without a scheme get http://, and
// the "<local>" bypass entry (host names without a dot) is honoured.
func fromIEConf(conf ieproxy.ProxyConf, pac func(string) string) func(*url.URL) (*url.URL, error) {
	if !conf.Automatic.Active && !conf.Static.Active {
		return nil
	}
	var bypass []string
	local := false
	for _, e := range strings.FieldsFunc(conf.Static.NoProxy, func(r rune) bool { return r == ',' || r == ';' }) {
		e = strings.TrimSpace(e)
		if strings.EqualFold(e, "<local>") {
			local = true
		} else if e != "" {
			bypass = append(bypass, e)
		}
	}
	pick := func(scheme string) string {
		if v, ok := conf.Static.Protocols[scheme]; ok {
			return v
		}
		return conf.Static.Protocols[""]
	}
	sc := httpproxy.Config{HTTPProxy: pick("http"), HTTPSProxy: pick("https"), NoProxy: strings.Join(bypass, ",")}
	static := sc.ProxyFunc()
	if pac != nil {
		pac = cachePAC(pac, pacCacheTTL, time.Now)
	}
	return func(u *url.URL) (*url.URL, error) {
		if conf.Automatic.Active && pac != nil {
			if h := strings.TrimSpace(pac(u.String())); h != "" {
				if !strings.Contains(h, "://") {
					h = "http://" + h
				}
				return url.Parse(h)
			}
		}
		if !conf.Static.Active || (local && hostOnly(u.Hostname())) {
			return nil, nil
		}
		return static(u)
	}
}

// pacCacheTTL is how long a PAC / WPAD answer is reused for the same
// scheme://host:port: WinHTTP's auto-detection can take seconds when the
// network has no WPAD server, and go-ieproxy asks it on every request.
const pacCacheTTL = 5 * time.Minute

// cachePAC memoises a PAC evaluation per scheme://host[:port] (https URLs
// reach PAC scripts without their path in browsers too).
func cachePAC(pac func(string) string, ttl time.Duration, now func() time.Time) func(string) string {
	type entry struct {
		proxy string
		at    time.Time
	}
	var mu sync.Mutex
	cache := map[string]entry{}
	return func(raw string) string {
		key := raw
		if u, err := url.Parse(raw); err == nil {
			key = u.Scheme + "://" + u.Host
		}
		mu.Lock()
		e, ok := cache[key]
		mu.Unlock()
		if ok && now().Sub(e.at) < ttl {
			return e.proxy
		}
		p := pac(raw)
		mu.Lock()
		cache[key] = entry{p, now()}
		mu.Unlock()
		return p
	}
}
