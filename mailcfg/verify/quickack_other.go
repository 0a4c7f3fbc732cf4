//go:build !linux

package verify

import "net"

// quickAck is Linux-only (quickack_linux.go); elsewhere ACKs stay as the
// system sends them.
func quickAck(net.Conn) {}
