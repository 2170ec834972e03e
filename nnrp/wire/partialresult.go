package wire

import "encoding/binary"

// PartialResultFlags is the flags word of PARTIAL_RESULT (C§7.4, D§9.3).
type PartialResultFlags uint32

// Partial result flags.
const (
	PartialFinal            PartialResultFlags = 0x1 // last partial before the terminal result
	PartialObjectRefPresent PartialResultFlags = 0x2 // ObjectID names the data; requires ObjectID != 0

	knownPartialResultFlags = PartialFinal | PartialObjectRefPresent
)

const partialResultLen = 40

// PartialResult is the metadata of PARTIAL_RESULT (type 0x38, 40 bytes,
// C§7.4, D§9.3), normally server to client. It is not terminal; partials keep
// their order within an operation and precede its terminal result. The body
// is BodyBytes bytes of inline partial data (opaque here). A partial carries
// inline bytes, a runtime object, or both.
type PartialResult struct {
	// OperationID is the operation reported on, never 0; the header frame_id
	// must match it (CheckOperationFrame).
	OperationID    uint64             `json:"operation_id"`
	ResultSequence uint64             `json:"result_sequence"` // monotonic per operation
	ObjectID       uint64             `json:"object_id"`       // runtime object with partial data, 0 = none
	DeltaSequence  uint64             `json:"delta_sequence"`  // object delta sequence, 0 = none
	BodyBytes      uint32             `json:"body_bytes"`
	Flags          PartialResultFlags `json:"flags"`
}

// Type returns TypePartialResult.
func (*PartialResult) Type() MessageType { return TypePartialResult }

// Len returns 40.
func (*PartialResult) Len() int { return partialResultLen }

// ExpectedBodyLen returns BodyBytes.
func (m *PartialResult) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

// CorrelatedOperation returns OperationID.
func (m *PartialResult) CorrelatedOperation() uint64 { return m.OperationID }

func (m *PartialResult) validate() error {
	const t = TypePartialResult
	var objRef, empty error
	if m.Flags&PartialObjectRefPresent != 0 && m.ObjectID == 0 {
		objRef = errInvalid(t, "object_id", "object_ref_present is set but object_id is 0")
	}
	if m.BodyBytes == 0 && m.ObjectID == 0 {
		empty = errInvalid(t, "body_bytes", "neither inline bytes nor an object")
	}
	return firstErr(
		checkNonZero(t, "operation_id", m.OperationID),
		checkMask(t, "flags", m.Flags, knownPartialResultFlags),
		objRef,
		empty,
	)
}

// Append validates m and appends its 40 bytes to b.
func (m *PartialResult) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ResultSequence)
	b = binary.LittleEndian.AppendUint64(b, m.ObjectID)
	b = binary.LittleEndian.AppendUint64(b, m.DeltaSequence)
	b = binary.LittleEndian.AppendUint32(b, m.BodyBytes)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return b, nil
}

// ParsePartialResult decodes and validates PARTIAL_RESULT metadata from the
// start of b.
func ParsePartialResult(b []byte) (PartialResult, int, error) {
	if len(b) < partialResultLen {
		return PartialResult{}, 0, errShort(TypePartialResult, "metadata", partialResultLen, len(b))
	}
	m := PartialResult{
		OperationID:    binary.LittleEndian.Uint64(b[0:]),
		ResultSequence: binary.LittleEndian.Uint64(b[8:]),
		ObjectID:       binary.LittleEndian.Uint64(b[16:]),
		DeltaSequence:  binary.LittleEndian.Uint64(b[24:]),
		BodyBytes:      binary.LittleEndian.Uint32(b[32:]),
		Flags:          PartialResultFlags(binary.LittleEndian.Uint32(b[36:])),
	}
	if err := m.validate(); err != nil {
		return PartialResult{}, 0, err
	}
	return m, partialResultLen, nil
}
