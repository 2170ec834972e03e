package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseClientHello) }

// rNonZero32 returns a random u32 with at least one bit set.
func rNonZero32(r *rand.Rand) uint32 { return r32(r) | 1<<rBelow(r, uint32(32)) }

func randomClientHello(r *rand.Rand) ClientHello {
	return ClientHello{
		MinVersionMajor: rBelow(r, uint8(2)), MaxVersionMajor: 1 + rBelow(r, uint8(255)),
		SupportedWireFormatBitmap: r16(r) | 1, SupportedProfileBitmap: rNonZero32(r),
		SupportedPayloadKindBitmap: PayloadKind(rNonZero32(r)), SupportedCodecBitmap: r32(r),
		SupportedCompressionBitmap: r32(r), SupportedDtypeBitmap: r32(r), SupportedLayoutBitmap: r32(r),
		CacheDigestBitmap: r16(r), CacheObjectBitmap: r16(r), CacheNamespaceCount: r16(r), MaxLaneCount: r16(r),
		MaxCacheEntries: r32(r), MaxCacheBytes: r32(r), TargetCadenceX100: r16(r), LatencyBudgetMS: r16(r),
		QualityTier: r16(r), DegradePolicy: r16(r), RequestedSessionID: r32(r), AuthBytes: r32(r),
		ControlExtensionBytes: r32(r),
	}
}

func TestClientHelloCodec(t *testing.T) { checkMessage(t, ParseClientHello, randomClientHello) }

// rustClientHello is the hello of the Rust HEAD client (C§3.2).
var rustClientHello = ClientHello{MinVersionMajor: 1, MaxVersionMajor: 1, SupportedWireFormatBitmap: 1,
	SupportedProfileBitmap: 0x3, SupportedPayloadKindBitmap: 0x73, MaxLaneCount: 1, LatencyBudgetMS: 500}

func TestClientHelloRejects(t *testing.T) {
	ctlRejects(t, rustClientHello, ParseClientHello, []ctlCase[ClientHello]{
		{name: "min > max", mod: func(m *ClientHello) { m.MinVersionMajor, m.MaxVersionMajor = 2, 1 }},
		{name: "window 2..3", mod: func(m *ClientHello) { m.MinVersionMajor, m.MaxVersionMajor = 2, 3 },
			code: CodeUnsupportedVersion},
		{name: "window 0..0", mod: func(m *ClientHello) { m.MinVersionMajor, m.MaxVersionMajor = 0, 0 },
			code: CodeUnsupportedVersion},
		{name: "wire bit 0 clear", mod: func(m *ClientHello) { m.SupportedWireFormatBitmap = 0x0002 },
			code: CodeUnsupportedVersion},
		{name: "no profile", mod: func(m *ClientHello) { m.SupportedProfileBitmap = 0 }},
		{name: "no payload kind", mod: func(m *ClientHello) { m.SupportedPayloadKindBitmap = 0 }},
	})
	// The window may be wider than version 1 on either side.
	wide := rustClientHello
	wide.MinVersionMajor, wide.MaxVersionMajor = 0, 9
	if _, err := wide.Append(nil); err != nil {
		t.Fatalf("window 0..9: %v", err)
	}
}

func TestClientHelloSplitBody(t *testing.T) {
	m := rustClientHello
	m.AuthBytes, m.ControlExtensionBytes = 3, 8
	body := append([]byte("abc"), make([]byte, 8)...)
	auth, ext, err := m.SplitBody(body)
	if err != nil || string(auth) != "abc" || len(ext) != 8 || cap(auth) != 3 {
		t.Fatalf("SplitBody = %q (cap %d) %x %v", auth, cap(auth), ext, err)
	}
	for _, n := range []int{0, 10, 12} {
		_, _, err := m.SplitBody(make([]byte, n))
		expectReject(t, "body of "+itoa(uint64(n)), err, CodeMalformedBody)
	}
	m.AuthBytes, m.ControlExtensionBytes = 0xFFFFFFFF, 0xFFFFFFFF
	if n, ok := m.ExpectedBodyLen(); !ok || n != 0x1FFFFFFFE {
		t.Fatalf("ExpectedBodyLen = %#x, %v (must not wrap)", n, ok)
	}
}

func TestClientHelloCheckAck(t *testing.T) {
	hello := ClientHello{MinVersionMajor: 1, MaxVersionMajor: 2, SupportedWireFormatBitmap: 0x0003,
		SupportedProfileBitmap: 0x3, SupportedPayloadKindBitmap: 0x73, SupportedCodecBitmap: 0x3,
		SupportedCompressionBitmap: 0x1, SupportedDtypeBitmap: 0x21, SupportedLayoutBitmap: 0x3,
		CacheDigestBitmap: 0x1, CacheObjectBitmap: 0x7}
	good := ServerHelloAck{SelectedVersionMajor: 1, AcceptedProfileBitmap: 0x2, AcceptedPayloadKindBitmap: 0x73,
		AcceptedCodecBitmap: 0x1, AcceptedCompressionBitmap: 0x1, AcceptedDtypeBitmap: 0x20,
		AcceptedLayoutBitmap: 0x2, CacheDigestBitmap: 0x1, CacheObjectBitmap: 0x4}
	if err := hello.CheckAck(&good); err != nil {
		t.Fatalf("valid ack: %v", err)
	}
	if err := rustClientHello.CheckAck(&rustServerHelloAck); err != nil {
		t.Fatalf("Rust default ack: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(a *ServerHelloAck)
		code ErrorCode
	}{
		{"version 0", func(a *ServerHelloAck) { a.SelectedVersionMajor = 0 }, CodeUnsupportedVersion},
		{"version 3", func(a *ServerHelloAck) { a.SelectedVersionMajor = 3 }, CodeUnsupportedVersion},
		{"wire format 2", func(a *ServerHelloAck) { a.SelectedWireFormat = 2 }, CodeUnsupportedVersion},
		{"wire format 200", func(a *ServerHelloAck) { a.SelectedWireFormat = 200 }, CodeUnsupportedVersion},
		{"profile", func(a *ServerHelloAck) { a.AcceptedProfileBitmap = 0x4 }, CodeUnsupportedCapability},
		{"payload kind", func(a *ServerHelloAck) { a.AcceptedPayloadKindBitmap = 0x77 }, CodeUnsupportedCapability},
		{"codec", func(a *ServerHelloAck) { a.AcceptedCodecBitmap = 0x4 }, CodeUnsupportedCapability},
		{"compression", func(a *ServerHelloAck) { a.AcceptedCompressionBitmap = 0x3 }, CodeUnsupportedCapability},
		{"dtype", func(a *ServerHelloAck) { a.AcceptedDtypeBitmap = 0x2 }, CodeUnsupportedCapability},
		{"layout", func(a *ServerHelloAck) { a.AcceptedLayoutBitmap = 0x4 }, CodeUnsupportedCapability},
		{"cache digest", func(a *ServerHelloAck) { a.CacheDigestBitmap = 0x2 }, CodeUnsupportedCapability},
		{"cache digest high", func(a *ServerHelloAck) { a.CacheDigestBitmap = 0x10001 }, CodeUnsupportedCapability},
		{"cache object", func(a *ServerHelloAck) { a.CacheObjectBitmap = 0x8 }, CodeUnsupportedCapability},
		{"cache object high", func(a *ServerHelloAck) { a.CacheObjectBitmap = 0x10000 }, CodeUnsupportedCapability},
	} {
		a := good
		tc.mod(&a)
		expectReject(t, tc.name, hello.CheckAck(&a), tc.code)
	}
}
