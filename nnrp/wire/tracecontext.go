package wire

import "encoding/binary"

// TraceFlags is the flags field of TRACE_CONTEXT (C§7.6).
type TraceFlags uint16

// Trace flags.
const (
	TraceSampled TraceFlags = 0x0001
	TraceError   TraceFlags = 0x0002

	knownTraceFlags = TraceSampled | TraceError
)

const traceContextLen = 32

// TraceContext is the metadata of TRACE_CONTEXT (type 0x3f, 32 bytes, C§7.6).
// The body holds trace attributes, BodyBytes bytes. The header frame_id is
// the frame of a live operation or 0 (session-scoped; required once the
// operation is terminal). Senders mirror TraceID into the header trace_id
// when they can.
type TraceContext struct {
	TraceID      uint64     `json:"trace_id"` // never 0
	SpanID       uint64     `json:"span_id"`  // never 0
	ParentSpanID uint64     `json:"parent_span_id"`
	Stage        StageCode  `json:"stage_code"`
	Flags        TraceFlags `json:"flags"`
	BodyBytes    uint32     `json:"body_bytes"`
}

// Type returns TypeTraceContext.
func (*TraceContext) Type() MessageType { return TypeTraceContext }

// Len returns 32.
func (*TraceContext) Len() int { return traceContextLen }

// ExpectedBodyLen returns BodyBytes.
func (m *TraceContext) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

func (m *TraceContext) validate() error {
	return firstErr(
		checkNonZero(TypeTraceContext, "trace_id", m.TraceID),
		checkNonZero(TypeTraceContext, "span_id", m.SpanID),
		checkMask(TypeTraceContext, "flags", m.Flags, knownTraceFlags),
	)
}

// Append validates m and appends its 32 bytes to b.
func (m *TraceContext) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.TraceID)
	b = binary.LittleEndian.AppendUint64(b, m.SpanID)
	b = binary.LittleEndian.AppendUint64(b, m.ParentSpanID)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Stage))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.BodyBytes)
	return b, nil
}

// ParseTraceContext decodes and validates TRACE_CONTEXT metadata from the
// start of b.
func ParseTraceContext(b []byte) (TraceContext, int, error) {
	if len(b) < traceContextLen {
		return TraceContext{}, 0, errShort(TypeTraceContext, "metadata", traceContextLen, len(b))
	}
	m := TraceContext{
		TraceID:      binary.LittleEndian.Uint64(b[0:]),
		SpanID:       binary.LittleEndian.Uint64(b[8:]),
		ParentSpanID: binary.LittleEndian.Uint64(b[16:]),
		Stage:        StageCode(binary.LittleEndian.Uint16(b[24:])),
		Flags:        TraceFlags(binary.LittleEndian.Uint16(b[26:])),
		BodyBytes:    binary.LittleEndian.Uint32(b[28:]),
	}
	if err := m.validate(); err != nil {
		return TraceContext{}, 0, err
	}
	return m, traceContextLen, nil
}
