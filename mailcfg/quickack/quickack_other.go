//go:build !linux

package quickack

import "net"

// Set is Linux-only (quickack_linux.go); elsewhere ACKs stay as the system
// sends them.
func Set(net.Conn) {}
