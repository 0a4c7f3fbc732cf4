//go:build windows || (darwin && cgo)

package netconf

import (
	"net/url"

	"github.com/mattn/go-ieproxy"
)

// SystemProxy is this machine's system proxy setting (Windows: Internet
// Options / WinHTTP, static or PAC; macOS: System Settings), nil when it
// says "no proxy". It is read once per process; see ReloadSystemProxy.
func SystemProxy() func(*url.URL) (*url.URL, error) {
	conf := ieproxy.GetConf()
	auto := conf.Automatic
	return fromIEConf(conf, auto.FindProxyForURL)
}

// ReloadSystemProxy reads the system proxy setting again (after a network
// change); clients made afterwards use it.
func ReloadSystemProxy() { ieproxy.ReloadConf() }
