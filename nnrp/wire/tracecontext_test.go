package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseTraceContext) }

func randomTraceContext(r *rand.Rand) TraceContext {
	return TraceContext{
		TraceID: 1 + rBelow(r, ^uint64(0)), SpanID: 1 + rBelow(r, ^uint64(0)), ParentSpanID: r64(r),
		Stage: StageCode(r16(r)), Flags: rBits(r, knownTraceFlags), BodyBytes: r32(r),
	}
}

func TestTraceContextCodec(t *testing.T) { checkMessage(t, ParseTraceContext, randomTraceContext) }

func TestTraceContextRejects(t *testing.T) {
	base := TraceContext{TraceID: 0x1234, SpanID: 0x5678, Stage: StageQueued, Flags: TraceSampled, BodyBytes: 5}
	rtRejects(t, base, ParseTraceContext, []rtCase[TraceContext]{
		{"trace_id 0", func(m *TraceContext) { m.TraceID = 0 }, func(b []byte) { rtPut64(b, 0, 0) }},
		{"span_id 0", func(m *TraceContext) { m.SpanID = 0 }, func(b []byte) { rtPut64(b, 8, 0) }},
		{"flag 0x0004", func(m *TraceContext) { m.Flags |= 0x0004 }, func(b []byte) { b[26] |= 0x04 }},
		{"flag 0x8000", func(m *TraceContext) { m.Flags = 0x8000 }, func(b []byte) { rtPut16(b, 26, 0x8000) }},
	})
}
