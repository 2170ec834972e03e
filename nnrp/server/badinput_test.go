package server_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/link"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// raw is a packet-level peer for malformed input.
type raw struct {
	t    *testing.T
	c    carrier.Conn
	r    *link.Reader
	pool bufpool.Pool
}

func (h *harness) raw(t *testing.T) *raw {
	t.Helper()
	e, err := carrier.ParseEndpoint(h.eps[carrier.TCP], 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := carrier.Dial(context.Background(), e, carrier.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	r := &raw{t: t, c: c}
	r.r = link.NewReader(c, &r.pool, 0)
	return r
}

func (r *raw) write(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) packet(h wire.Header, m wire.Message, body ...[]byte) {
	r.t.Helper()
	b, err := wire.AppendPacket(nil, h, m, body...)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(b)
}

func (r *raw) hello() {
	r.t.Helper()
	hello := client.DefaultHello()
	r.packet(wire.Header{}, &hello)
	if p := r.read(); p.Header.Type != wire.TypeServerHelloAck {
		r.t.Fatalf("hello answered by %v", p.Header.Type)
	}
}

func (r *raw) openSession() uint32 {
	r.t.Helper()
	open := wire.SessionOpen{ProfileID: wire.ProfileTensor, MaxInFlightOperations: 4}
	r.packet(wire.Header{}, &open)
	p := r.read()
	ack, err := wire.Decode(&p, wire.ParseSessionOpenAck)
	if err != nil || !ack.Status.Accepted() {
		r.t.Fatalf("open: %v %+v", err, ack)
	}
	return ack.SessionID
}

func (r *raw) read() wire.Packet {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := r.r.Next()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	// Copy out so the test need not track buffers.
	b := append([]byte(nil), p.Buf.B...)
	p.Buf.Release()
	pkt, _, err := wire.ParsePacket(b, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	return pkt
}

// expectError reads an ERROR and checks its code and fatality.
func (r *raw) expectError(code wire.ErrorCode, fatal bool) wire.ErrorMessage {
	r.t.Helper()
	p := r.read()
	if p.Header.Type != wire.TypeError {
		r.t.Fatalf("got %v, want ERROR %v", p.Header.Type, code)
	}
	m, err := wire.Decode(&p, wire.ParseErrorMessage)
	if err != nil {
		r.t.Fatal(err)
	}
	if m.Code != code || (m.Fatal == 1) != fatal {
		r.t.Fatalf("ERROR %v fatal=%d (%s), want %v fatal=%v", m.Code, m.Fatal, p.Body, code, fatal)
	}
	return m
}

// expectClosed checks the server closed the connection.
func (r *raw) expectClosed() {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		p, err := r.r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || !isTimeout(err) {
				return
			}
			r.t.Fatalf("connection still open: %v", err)
		}
		p.Buf.Release()
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// bystander is a healthy session that must keep working while others
// misbehave.
func bystander(t *testing.T, h *harness) func() {
	c := h.dial(t, carrier.QUIC)
	s := open(t, c, client.SessionOptions{})
	return func() {
		t.Helper()
		id, err := s.Submit(context.Background(), smallFrame(t, 1000))
		if err != nil {
			t.Fatalf("bystander submit: %v", err)
		}
		ev := next(t, s)
		if ev.Kind != client.EventResult || ev.FrameID != id {
			t.Fatalf("bystander got %v", ev.Kind)
		}
		ev.Release()
	}
}

func TestBadHeadersCloseOnlyThatConnection(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, nil)
	check := bystander(t, h)
	hello := client.DefaultHello()
	good, _ := wire.AppendPacket(nil, wire.Header{}, &hello)
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		code wire.ErrorCode
	}{
		{"magic", mutate(func(b []byte) { b[0] = 'X' }), wire.CodeMalformedHeader},
		{"version", mutate(func(b []byte) { b[4] = 2 }), wire.CodeUnsupportedVersion},
		{"wire format", mutate(func(b []byte) { b[5] = 1 }), wire.CodeUnsupportedVersion},
		{"header_len", mutate(func(b []byte) { b[7] = 48 }), wire.CodeMalformedHeader},
		{"reserved flag bit", mutate(func(b []byte) { b[8] = 0x40 }), wire.CodeMalformedHeader},
		{"unknown type", mutate(func(b []byte) { b[6] = 0x0b }), wire.CodeMalformedHeader},
		{"over the limit", mutate(func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 1<<30) }), wire.CodeLimitExceeded},
		{"wrong meta_len", mutate(func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 60) }), wire.CodeMalformedBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.raw(t)
			r.write(tc.b)
			r.expectError(tc.code, true)
			r.expectClosed()
			check()
		})
	}
}

func TestTruncatedPacketAndSilentClient(t *testing.T) {
	h := newHarness(t, server.Profile{HandshakeTimeout: 200 * time.Millisecond}, server.Options{}, nil)
	check := bystander(t, h)
	// A client that connects and sends nothing is closed after the
	// handshake timeout.
	r := h.raw(t)
	start := time.Now()
	r.expectError(wire.CodeInvalidState, true)
	r.expectClosed()
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("closed after %v", el)
	}
	// A client that stops in the middle of a packet is closed the same way.
	r = h.raw(t)
	hello := client.DefaultHello()
	good, _ := wire.AppendPacket(nil, wire.Header{}, &hello)
	r.write(good[:50])
	r.expectClosed()
	check()
	if n := h.srv.Stats().HandshakeFailures.Load(); n < 2 {
		t.Fatalf("%d handshake failures counted", n)
	}
}

func TestWrongStateAndUnknownSession(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, nil)
	// Anything but CLIENT_HELLO first is fatal.
	r := h.raw(t)
	r.packet(wire.Header{}, &wire.SessionOpen{ProfileID: 1})
	r.expectError(wire.CodeInvalidState, true)
	r.expectClosed()

	r = h.raw(t)
	r.hello()
	// A packet for a session that does not exist: non-fatal ERROR.
	r.packet(wire.Header{Type: wire.TypePing, SessionID: 77}, nil)
	m := r.expectError(wire.CodeInvalidState, false)
	if m.RelatedSessionID != 77 || m.Scope != wire.ScopeSession {
		t.Fatalf("ERROR %+v", m)
	}
	// A second hello is fatal.
	hello := client.DefaultHello()
	r.packet(wire.Header{}, &hello)
	r.expectError(wire.CodeInvalidState, true)
	r.expectClosed()
}

func TestMalformedSubmits(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, nil)
	r := h.raw(t)
	r.hello()
	sid := r.openSession()
	f := smallFrame(t, 1000)
	b := wire.SubmitBuilder{Header: wire.Header{SessionID: sid, FrameID: 1}, Meta: f.Meta, Tiles: f.Tiles, Sections: f.Sections}
	b.Meta.OperationID = 1
	good, err := b.Append(nil)
	if err != nil {
		t.Fatal(err)
	}

	// Reserved metadata byte set: no operation can be created → ERROR, frame scope.
	bad := append([]byte(nil), good...)
	bad[wire.HeaderLen+15] = 1
	r.write(bad)
	m := r.expectError(wire.CodeMalformedBody, false)
	if m.Scope != wire.ScopeFrame || m.RelatedFrameID != 1 {
		t.Fatalf("ERROR %+v", m)
	}

	// Corrupt body (section descriptor reserved field): the operation exists
	// and is dropped with capability_mismatch.
	bad = append([]byte(nil), good...)
	// header 40 + metadata 72 + prelude 32 + tile index block 16 + section
	// table block header 16, then the section descriptor: reserved at 28.
	binary.LittleEndian.PutUint32(bad[40+72+32+16+16+28:], 0xFFFF)
	r.write(bad)
	p := r.read()
	if p.Header.Type != wire.TypeResultDropReason {
		t.Fatalf("corrupt body answered by %v", p.Header.Type)
	}
	if d, err := wire.Decode(&p, wire.ParseResultDropReason); err != nil || d.Reason != wire.DropCapabilityMismatch {
		t.Fatalf("drop %+v %v", d, err)
	}

	// A valid frame works; reusing its frame id is refused.
	b.Header.FrameID, b.Meta.OperationID = 5, 5
	good, _ = b.Append(nil)
	r.write(good)
	if p := r.read(); p.Header.Type != wire.TypeResultPush {
		t.Fatalf("valid submit answered by %v", p.Header.Type)
	}
	b.Meta.OperationID = 6
	dup, _ := b.Append(nil)
	r.write(dup)
	r.expectError(wire.CodeInvalidState, false)
}

func TestSlowReaderIsClosedOthersContinue(t *testing.T) {
	h := newHarness(t, server.Profile{WriteStallTimeout: 300 * time.Millisecond, MaxOutboundBytes: 4 << 20}, server.Options{}, nil)
	check := bystander(t, h)
	r := h.raw(t)
	r.hello()
	sid := r.openSession()
	// 1 MiB frames, echoed back, never read: the socket buffers fill, the
	// write stalls, the server closes this connection.
	f, err := client.TensorFrame(testImage(1, 512, 512, 0), 512, 512, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 40; i++ {
		b := wire.SubmitBuilder{Header: wire.Header{SessionID: sid, FrameID: uint32(i)}, Meta: f.Meta, Tiles: f.Tiles, Sections: f.Sections}
		b.Meta.OperationID = uint64(i)
		pkt, _ := b.Append(nil)
		_ = r.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := r.c.Write(pkt); err != nil {
			break // the server stopped reading us (throttled) or closed
		}
		if i%8 == 0 {
			check()
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.srv.Stats().SlowConsumers.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("slow consumer never detected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	check()
	// Every receive buffer of the closed connection came back.
	for {
		n, _ := h.srv.ReceiveBuffers()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d receive buffers still held", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
