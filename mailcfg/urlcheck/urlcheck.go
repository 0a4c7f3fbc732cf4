// Package urlcheck holds the app's one rule for addresses it sends requests
// to: https, or plain http only to this machine (tests and the demo). The
// policy validates its URLs with it, the Infino client checks every request
// and redirect with it, and netconf keeps loopback requests off the proxy.
package urlcheck

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// Check accepts an absolute https URL without credentials, query or
// fragment; with loopbackHTTP, plain http is accepted only to a loopback
// address (tests and the demo).
func Check(s string, loopbackHTTP bool) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL such as https://example.com")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not contain a user name, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopbackHTTP && IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return errors.New("must use https://")
}

// IsLoopbackHost reports whether a host name or address is this machine.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
