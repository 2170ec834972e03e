package wire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
)

func randomHeader(r *rand.Rand) Header {
	ts := KnownTypes()
	return Header{
		Type: ts[r.IntN(len(ts))], Flags: rBits(r, knownFlags),
		MetaLen: r32(r), BodyLen: r32(r), SessionID: r32(r), FrameID: r32(r),
		ViewID: r16(r), RouteID: r16(r), TraceID: r64(r),
	}
}

func TestHeaderCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		h := randomHeader(r)
		b, err := h.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != h.Len() {
			t.Fatalf("len(Append(nil)) = %d, Len() = %d", len(b), h.Len())
		}
		got, n, err := ParseHeader(append(b, 1, 2, 3))
		if err != nil || n != HeaderLen || !reflect.DeepEqual(got, h) {
			t.Fatalf("round trip: %+v %d %v, want %+v", got, n, err, h)
		}
		for cut := 0; cut < len(b); cut++ {
			if _, _, err := ParseHeader(b[:cut]); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut %d: %v", cut, err)
			}
		}
	}
}

func TestHeaderRejects(t *testing.T) {
	good, _ := (&Header{Type: TypePing}).Append(nil)
	for _, tc := range []struct {
		name  string
		patch func(b []byte)
		code  ErrorCode
	}{
		{"magic", func(b []byte) { b[3] = 'Q' }, CodeMalformedHeader},
		{"version", func(b []byte) { b[4] = 2 }, CodeUnsupportedVersion},
		{"wire format", func(b []byte) { b[5] = 1 }, CodeUnsupportedVersion},
		{"header_len", func(b []byte) { b[7] = 41 }, CodeMalformedHeader},
		{"flag bit 6", func(b []byte) { b[8] = 0x40 }, CodeMalformedHeader},
		{"flag bit 31", func(b []byte) { b[11] = 0x80 }, CodeMalformedHeader},
		{"type 0x00", func(b []byte) { b[6] = 0 }, CodeMalformedHeader},
		{"type 0x4a", func(b []byte) { b[6] = 0x4a }, CodeMalformedHeader},
	} {
		b := append([]byte(nil), good...)
		tc.patch(b)
		_, _, err := ParseHeader(b)
		expectReject(t, tc.name, err, tc.code)
		var he *HeaderError
		if !errors.As(err, &he) {
			t.Fatalf("%s: %T is not a *HeaderError", tc.name, err)
		}
	}
	for _, h := range []Header{{Type: 0x0b}, {Type: TypePing, Flags: 0x40}} {
		if _, err := h.Append(nil); err == nil {
			t.Fatalf("Append(%+v) accepted", h)
		}
	}
}

func TestParsePacket(t *testing.T) {
	m := ErrorMessage{Code: CodeServerBusy, DiagnosticBytes: 4}
	pkt, err := AppendPacket(nil, Header{SessionID: 3}, &m, []byte("busy"))
	if err != nil {
		t.Fatal(err)
	}
	p, n, err := ParsePacket(append(pkt, 0xFF), 0)
	if err != nil || n != len(pkt) || string(p.Body) != "busy" || len(p.Meta) != 32 {
		t.Fatalf("%v %d %q", err, n, p.Body)
	}
	got, err := Decode(&p, ParseErrorMessage)
	if err != nil || got != m {
		t.Fatalf("decode: %+v %v", got, err)
	}
	for cut := 0; cut < len(pkt); cut++ {
		if _, _, err := ParsePacket(pkt[:cut], 0); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: %v", cut, err)
		}
	}
	if _, _, err := ParsePacket(pkt, 50); err == nil {
		t.Fatal("packet over the limit accepted")
	} else {
		expectReject(t, "limit", err, CodeLimitExceeded)
	}
	// Body length not matching the metadata's tail field.
	if _, err := AppendPacket(nil, Header{}, &m, []byte("busy!")); err == nil {
		t.Fatal("AppendPacket accepted a body of the wrong length")
	}
	bad := append([]byte(nil), pkt...)
	bad[16] = 3 // body_len 3: the packet now ends early and diagnostic_bytes disagrees
	p, _, err = ParsePacket(bad, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(&p, ParseErrorMessage)
	expectReject(t, "body_len", err, CodeMalformedBody)
	// Header-only messages.
	ping, _ := AppendPacket(nil, Header{Type: TypePing, SessionID: 1}, nil)
	p, _, _ = ParsePacket(ping, 0)
	if err := p.CheckHeaderOnly(); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendPacket(nil, Header{Type: TypePing}, nil, []byte("x")); err == nil {
		t.Fatal("PING with a body accepted")
	}
	if _, err := AppendPacket(nil, Header{Type: TypeError}, nil); err == nil {
		t.Fatal("ERROR without metadata accepted")
	}
}

func TestParseAllocs(t *testing.T) {
	hello := ClientHello{MinVersionMajor: 1, MaxVersionMajor: 1, SupportedWireFormatBitmap: 1, SupportedProfileBitmap: 1, SupportedPayloadKindBitmap: 1}
	pkt, _ := AppendPacket(nil, Header{}, &hello)
	if n := testing.AllocsPerRun(100, func() {
		p, _, err := ParsePacket(pkt, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ParseClientHello(p.Meta); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per packet parse", n)
	}
}

// FuzzPacket frames arbitrary bytes as a packet and decodes its metadata
// with the registered codec of its type. Whatever parses must re-encode to
// the same bytes; nothing may panic.
func FuzzPacket(f *testing.F) {
	seed := func(h Header, m Message, body ...[]byte) {
		b, err := AppendPacket(nil, h, m, body...)
		if err == nil {
			f.Add(b)
		}
	}
	seed(Header{}, &ClientHello{MinVersionMajor: 1, MaxVersionMajor: 1, SupportedWireFormatBitmap: 1, SupportedProfileBitmap: 3, SupportedPayloadKindBitmap: 0x73})
	seed(Header{SessionID: 1}, &ErrorMessage{DiagnosticBytes: 2}, []byte("hi"))
	seed(Header{SessionID: 1, FrameID: 1}, &Cancel{OperationID: 1, SourceRole: RoleClient})
	seed(Header{Type: TypePing, SessionID: 1}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := ParsePacket(b, 0)
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if n > len(b) || uint64(n) != p.Header.PacketLen() {
			t.Fatalf("consumed %d of %d, header says %d", n, len(b), p.Header.PacketLen())
		}
		codec, ok := metaCodecs[p.Header.Type]
		if !ok || len(p.Meta) != p.Header.Type.MetaLen() {
			return
		}
		m, _, err := codec(p.Meta)
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		meta, err := m.Append(nil)
		if err != nil {
			// Receivers may be more lenient than senders (RESULT_PUSH R2–R5).
			if p.Header.Type != TypeResultPush {
				t.Fatalf("%s parsed but does not re-encode: %v", p.Header.Type, err)
			}
			return
		}
		if !bytes.Equal(meta, p.Meta) {
			t.Fatalf("%s re-encodes differently", p.Header.Type)
		}
	})
}

func BenchmarkHeaderParse(b *testing.B) {
	h := Header{Type: TypeFrameSubmit, Flags: FlagKeyframe, MetaLen: 72, BodyLen: 1 << 20, SessionID: 7, FrameID: 11, TraceID: 42}
	buf, _ := h.Append(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseHeader(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderAppend(b *testing.B) {
	h := Header{Type: TypeFrameSubmit, Flags: FlagKeyframe, MetaLen: 72, BodyLen: 1 << 20, SessionID: 7, FrameID: 11, TraceID: 42}
	buf := make([]byte, 0, HeaderLen)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = h.Append(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
