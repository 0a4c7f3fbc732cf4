//go:build !linux

package latency

import "net"

// quickAck is Linux-only (quickack_linux.go).
func quickAck(net.Conn) {}
