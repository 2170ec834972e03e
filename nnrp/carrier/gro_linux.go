//go:build linux

package carrier

import (
	"encoding/binary"
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// UDP generic receive offload (GRO) for quic-go.
//
// quic-go v0.65.0 reads at most 8 datagrams per recvmmsg and does not ask
// the kernel for GRO (quic-go issue 3838), so a peer sending GSO bursts
// (quinn, the official runtime's QUIC stack, does) costs the kernel a
// segmentation per datagram in softirq and costs quic-go one syscall per 8
// datagrams: ≈ 90 syscalls for a 1 MiB frame. quic-go reads through
// ReadBatch when its PacketConn has one, so groConn provides it: the socket
// has UDP_GRO on, one recvmmsg fills up to groMessages buffers of 64 KiB
// each holding up to 64 coalesced datagrams of one flow, and ReadBatch
// hands them to quic-go one datagram per message, copied into quic-go's own
// packet buffers, with the socket's other control messages (ECN, packet
// info) repeated for each. Everything else (writes with GSO, ECN, DF,
// buffer sizes) goes to the embedded *net.UDPConn unchanged.
//
// groConn is read by one goroutine at a time: quic-go's transport has a
// single reader.
type groConn struct {
	*net.UDPConn
	pc   *ipv4.PacketConn
	msgs []ipv4.Message // received by the last recvmmsg

	// The datagrams of msgs not yet handed out: msgs[cur:n], and within
	// msgs[cur] the bytes from off on, in segments of seg bytes.
	cur, n   int
	off, seg int
	// oob is msgs[cur]'s control messages without the GRO one.
	oob []byte
}

const (
	groMessages   = 8
	groBufferSize = 1 << 16 // the largest UDP payload plus headroom
	groOOBSize    = 256
)

// withGRO turns on UDP GRO for c and returns the conn quic-go should use.
// Where the kernel refuses (before Linux 5.0) c is returned as it is.
func withGRO(c *net.UDPConn) net.PacketConn {
	rc, err := c.SyscallConn()
	if err != nil {
		return c
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_GRO, 1)
	}); err != nil || serr != nil {
		return c
	}
	g := &groConn{UDPConn: c, pc: ipv4.NewPacketConn(c), msgs: make([]ipv4.Message, groMessages)}
	for i := range g.msgs {
		g.msgs[i].Buffers = [][]byte{make([]byte, groBufferSize)}
		g.msgs[i].OOB = make([]byte, groOOBSize)
	}
	return g
}

// ReadBatch fills ms with received datagrams, one per message, and returns
// how many it filled. It blocks only when nothing is left from the previous
// receive.
func (g *groConn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	if g.cur >= g.n {
		n, err := g.pc.ReadBatch(g.msgs, flags)
		if err != nil {
			return 0, err
		}
		g.cur, g.n = 0, n
		g.start()
	}
	k := 0
	for k < len(ms) && g.cur < g.n {
		m := &g.msgs[g.cur]
		end := min(g.off+g.seg, m.N)
		d := &ms[k]
		// A datagram larger than quic-go's buffer is cut, as the kernel
		// would cut it; quic-go then fails to decrypt and drops it.
		d.N = copy(d.Buffers[0], m.Buffers[0][g.off:end])
		d.NN = copy(d.OOB, g.oob)
		d.Addr = m.Addr
		d.Flags = 0
		k++
		g.off = end
		if g.off >= m.N {
			g.cur++
			g.start()
		}
	}
	return k, nil
}

// start prepares msgs[cur] for handing out: its segment size and its
// control messages without the GRO one.
func (g *groConn) start() {
	g.off = 0
	if g.cur >= g.n {
		return
	}
	m := &g.msgs[g.cur]
	g.seg = m.N
	g.oob = g.oob[:0]
	oob := m.OOB[:m.NN]
	for len(oob) > 0 {
		h, body, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		rec := oob[:len(oob)-len(rest)]
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && len(body) >= 4 {
			if s := int(int32(binary.NativeEndian.Uint32(body))); s > 0 {
				g.seg = s
			}
		} else {
			g.oob = append(g.oob, rec...)
		}
		oob = rest
	}
	if g.seg <= 0 { // an empty datagram is still one datagram
		g.seg = 1
	}
}
