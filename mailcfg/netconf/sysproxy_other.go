//go:build !windows && !(darwin && cgo)

package netconf

import "net/url"

// SystemProxy: this OS has no system proxy setting the app reads (Linux
// desktops: use HTTPS_PROXY or the policy's proxyUrl).
func SystemProxy() func(*url.URL) (*url.URL, error) { return nil }

// ReloadSystemProxy does nothing here.
func ReloadSystemProxy() {}
