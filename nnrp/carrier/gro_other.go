//go:build !linux

package carrier

import "net"

// withGRO returns c unchanged: UDP GRO is Linux-only.
func withGRO(c *net.UDPConn) net.PacketConn { return c }
