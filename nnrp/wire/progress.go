package wire

import "encoding/binary"

// PercentUnknown is the PROGRESS.percent_x100 value for "progress unknown".
const PercentUnknown uint16 = 0xFFFF

// maxPercentX100 is 100.00 %.
const maxPercentX100 = 10000

const progressLen = 32

// Progress is the metadata of PROGRESS (type 0x37, 32 bytes, C§7.4, D§9.4),
// normally server to client. It is not terminal and must precede the
// operation's terminal result. The body is an opaque payload of BodyBytes
// bytes.
type Progress struct {
	// OperationID is the operation reported on, never 0; the header frame_id
	// must match it (CheckOperationFrame).
	OperationID      uint64    `json:"operation_id"`
	ProgressSequence uint64    `json:"progress_sequence"` // monotonic per operation
	Stage            StageCode `json:"stage_code"`
	// PercentX100 is the completion in hundredths of a percent (0–10000),
	// or PercentUnknown.
	PercentX100 uint16 `json:"percent_x100"`
	ObjectID    uint64 `json:"object_id"` // runtime object carrying progress data, 0 = none
	BodyBytes   uint32 `json:"body_bytes"`
}

// Type returns TypeProgress.
func (*Progress) Type() MessageType { return TypeProgress }

// Len returns 32.
func (*Progress) Len() int { return progressLen }

// ExpectedBodyLen returns BodyBytes.
func (m *Progress) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

// CorrelatedOperation returns OperationID.
func (m *Progress) CorrelatedOperation() uint64 { return m.OperationID }

func (m *Progress) validate() error {
	var percent error
	if m.PercentX100 > maxPercentX100 && m.PercentX100 != PercentUnknown {
		percent = errInvalid(TypeProgress, "percent_x100", "%d is neither 0..%d nor 0x%04x (unknown)",
			m.PercentX100, maxPercentX100, PercentUnknown)
	}
	return firstErr(
		checkNonZero(TypeProgress, "operation_id", m.OperationID),
		percent,
	)
}

// Append validates m and appends its 32 bytes to b.
func (m *Progress) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ProgressSequence)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Stage))
	b = binary.LittleEndian.AppendUint16(b, m.PercentX100)
	b = binary.LittleEndian.AppendUint64(b, m.ObjectID) // unaligned: offset 20
	b = binary.LittleEndian.AppendUint32(b, m.BodyBytes)
	return b, nil
}

// ParseProgress decodes and validates PROGRESS metadata from the start of b.
func ParseProgress(b []byte) (Progress, int, error) {
	if len(b) < progressLen {
		return Progress{}, 0, errShort(TypeProgress, "metadata", progressLen, len(b))
	}
	m := Progress{
		OperationID:      binary.LittleEndian.Uint64(b[0:]),
		ProgressSequence: binary.LittleEndian.Uint64(b[8:]),
		Stage:            StageCode(binary.LittleEndian.Uint16(b[16:])),
		PercentX100:      binary.LittleEndian.Uint16(b[18:]),
		ObjectID:         binary.LittleEndian.Uint64(b[20:]),
		BodyBytes:        binary.LittleEndian.Uint32(b[28:]),
	}
	if err := m.validate(); err != nil {
		return Progress{}, 0, err
	}
	return m, progressLen, nil
}
