//go:build linux

package carrier

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// sendGSO sends payload from c to dst as one UDP_SEGMENT (GSO) send of
// segments of seg bytes, with the IP TOS byte tos.
func sendGSO(t *testing.T, c *net.UDPConn, dst *net.UDPAddr, payload []byte, seg uint16, tos byte) {
	t.Helper()
	oob := make([]byte, unix.CmsgSpace(2)+unix.CmsgSpace(4))
	n := 0
	if seg > 0 {
		hdr := unix.Cmsghdr{Level: unix.SOL_UDP, Type: unix.UDP_SEGMENT}
		hdr.SetLen(unix.CmsgLen(2))
		n += putCmsg(oob[n:], hdr, binary.NativeEndian.AppendUint16(nil, seg))
	}
	hdr := unix.Cmsghdr{Level: unix.IPPROTO_IP, Type: unix.IP_TOS}
	hdr.SetLen(unix.CmsgLen(4))
	n += putCmsg(oob[n:], hdr, binary.NativeEndian.AppendUint32(nil, uint32(tos)))
	if _, _, err := c.WriteMsgUDP(payload, oob[:n], dst); err != nil {
		t.Skipf("this kernel cannot send with UDP GSO: %v", err)
	}
}

func putCmsg(b []byte, h unix.Cmsghdr, data []byte) int {
	binary.NativeEndian.PutUint64(b[0:8], h.Len)
	binary.NativeEndian.PutUint32(b[8:12], uint32(h.Level))
	binary.NativeEndian.PutUint32(b[12:16], uint32(h.Type))
	copy(b[unix.CmsgLen(0):], data)
	return unix.CmsgSpace(len(data))
}

// TestGROReadBatch sends coalescable GSO bursts and plain datagrams to a
// GRO socket and reads them back the way quic-go does (batches of 8 into
// 1452-byte buffers): every datagram comes out once, in order, with its
// bytes, sender and TOS control message, and without the GRO one.
func TestGROReadBatch(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	rc, err := rx.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVTOS, 1) }); err != nil {
		t.Fatal(err)
	}
	pc := withGRO(rx)
	g, ok := pc.(*groConn)
	if !ok {
		t.Skip("the kernel refused UDP_GRO")
	}
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	dst := rx.LocalAddr().(*net.UDPAddr)

	// Datagrams expected, in order: a GSO burst of 20 × 1200 + 700, a
	// plain 1452-byte datagram, an empty one, and a second burst of
	// 3 × 100.
	var want [][]byte
	burst := func(sizes ...int) []byte {
		var all []byte
		for _, n := range sizes {
			d := bytes.Repeat([]byte{byte(len(want) + 1)}, n)
			if n > 0 {
				d[0] = byte(len(want))
			}
			want = append(want, d)
			all = append(all, d...)
		}
		return all
	}
	sizes := make([]int, 20)
	for i := range sizes {
		sizes[i] = 1200
	}
	sendGSO(t, tx, dst, burst(append(sizes, 700)...), 1200, 0x02)
	sendGSO(t, tx, dst, burst(1452), 0, 0x02)
	sendGSO(t, tx, dst, burst(0), 0, 0x02)
	sendGSO(t, tx, dst, burst(100, 100, 100), 100, 0x02)

	ms := make([]ipv4.Message, 8)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, 1452)}
		ms[i].OOB = make([]byte, 128)
	}
	var got [][]byte
	coalesced := false
	_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < len(want) {
		n, err := g.ReadBatch(ms, 0)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d datagrams: %v", len(got), len(want), err)
		}
		if n == 0 || n > len(ms) {
			t.Fatalf("ReadBatch returned %d messages", n)
		}
		for _, m := range ms[:n] {
			got = append(got, bytes.Clone(m.Buffers[0][:m.N]))
			if a, ok := m.Addr.(*net.UDPAddr); !ok || !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port != tx.LocalAddr().(*net.UDPAddr).Port {
				t.Errorf("datagram %d from %v, want %v", len(got)-1, m.Addr, tx.LocalAddr())
			}
			checkOOB(t, len(got)-1, m.OOB[:m.NN])
		}
		if g.n > 0 && g.msgs[0].N > 1452 {
			coalesced = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("datagram %d: %d bytes starting %v, want %d bytes starting %v", i, len(got[i]), head(got[i]), len(want[i]), head(want[i]))
		}
	}
	if !coalesced {
		t.Log("the kernel delivered no coalesced datagram; only the pass-through path was exercised")
	}
}

func head(b []byte) []byte { return b[:min(len(b), 2)] }

// checkOOB checks that the control messages handed to quic-go hold the TOS
// byte sent and no GRO segment size.
func checkOOB(t *testing.T, i int, oob []byte) {
	t.Helper()
	tos := false
	for len(oob) > 0 {
		h, body, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			t.Errorf("datagram %d: control messages: %v", i, err)
			return
		}
		switch {
		case h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO:
			t.Errorf("datagram %d: GRO control message passed on", i)
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TOS:
			tos = len(body) == 1 && body[0] == 0x02
		}
		oob = rest
	}
	if !tos {
		t.Errorf("datagram %d: no IP_TOS control message with the ECN bits sent (0x02)", i)
	}
}
