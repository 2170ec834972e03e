package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseServerHelloAck) }

func randomServerHelloAck(r *rand.Rand) ServerHelloAck {
	return ServerHelloAck{
		SelectedVersionMajor: r8(r), SelectedWireFormat: r8(r), AuthStatus: r8(r), SessionID: r32(r),
		AcceptedProfileBitmap: r32(r), AcceptedPayloadKindBitmap: PayloadKind(r32(r)),
		AcceptedCodecBitmap: r32(r), AcceptedCompressionBitmap: r32(r), AcceptedDtypeBitmap: r32(r),
		AcceptedLayoutBitmap: r32(r), CacheDigestBitmap: r32(r), CacheObjectBitmap: r32(r),
		MaxCacheEntries: r32(r), MaxCacheBytes: r32(r), MaxLaneCount: r16(r), MaxConcurrentFrames: r16(r),
		TargetCadenceX100: r16(r), LatencyBudgetMS: r16(r), QualityTier: r16(r), DegradePolicy: r16(r),
		MaxBodyBytes: r32(r), TokenTTLMS: r32(r), RetryAfterMS: r32(r), ControlExtensionBytes: r32(r),
		Flags: rBits(r, knownServerFlags),
	}
}

func TestServerHelloAckCodec(t *testing.T) {
	checkMessage(t, ParseServerHelloAck, randomServerHelloAck)
}

// rustServerHelloAck is the default Rust server's answer to rustClientHello
// (C§3.4).
var rustServerHelloAck = ServerHelloAck{SelectedVersionMajor: 1, AcceptedProfileBitmap: 0x2,
	AcceptedPayloadKindBitmap: 0x73, MaxLaneCount: 1, MaxConcurrentFrames: 4, LatencyBudgetMS: 500,
	MaxBodyBytes: DefaultMaxPacket, TokenTTLMS: 120000}

func TestServerHelloAckRejects(t *testing.T) {
	ctlRejects(t, rustServerHelloAck, ParseServerHelloAck, []ctlCase[ServerHelloAck]{
		{name: "reserved byte 3", patch: func(b []byte) { b[3] = 1 }},
		{name: "server_flags bit 1", mod: func(m *ServerHelloAck) { m.Flags = 0x2 }},
		{name: "server_flags bit 2", mod: func(m *ServerHelloAck) { m.Flags = ServerCacheEnabled | 0x4 }},
		{name: "server_flags bit 31", mod: func(m *ServerHelloAck) { m.Flags = 1 << 31 }},
	})
	m := rustServerHelloAck
	m.ControlExtensionBytes = 24
	if n, ok := m.ExpectedBodyLen(); !ok || n != 24 {
		t.Fatalf("ExpectedBodyLen = %d, %v", n, ok)
	}
}
