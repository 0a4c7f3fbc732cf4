package mailcfg

import (
	"net"
	"strconv"
)

func netJoin(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
