package wire

import "encoding/binary"

// ResultDropFlags is the flags byte of RESULT_DROP_REASON (C§7.6, D§9.2).
type ResultDropFlags uint8

// Result drop flags.
const (
	ResultDropFinal     ResultDropFlags = 0x01
	ResultDropRetryable ResultDropFlags = 0x02

	knownResultDropFlags = ResultDropFinal | ResultDropRetryable
)

const resultDropReasonLen = 32

// ResultDropReason is the metadata of RESULT_DROP_REASON (type 0x40, 32
// bytes, C§7.6, D§9.2): the terminal drop of an operation, with a reason. It
// replaces RESULT_PUSH and RESULT_DROP for that operation (exactly one
// terminal). The body is a diagnostic of DiagnosticBytes bytes.
type ResultDropReason struct {
	// OperationID is the dropped operation, never 0; the header frame_id must
	// be the frame of its FRAME_SUBMIT (CheckOperationFrame).
	OperationID    uint64     `json:"operation_id"`
	ResultSequence uint64     `json:"result_sequence"` // sequence of the dropped result, 0 allowed
	Reason         DropReason `json:"drop_reason_code"`
	// SourceRole is 0–7 or private 0x80–0xFF; a server sends RoleServer.
	SourceRole      Role            `json:"source_role"`
	Flags           ResultDropFlags `json:"flags"`
	DiagnosticBytes uint32          `json:"diagnostic_bytes"`
}

// Type returns TypeResultDropReason.
func (*ResultDropReason) Type() MessageType { return TypeResultDropReason }

// Len returns 32.
func (*ResultDropReason) Len() int { return resultDropReasonLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *ResultDropReason) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

// CorrelatedOperation returns OperationID.
func (m *ResultDropReason) CorrelatedOperation() uint64 { return m.OperationID }

func (m *ResultDropReason) validate() error {
	const t = TypeResultDropReason
	return firstErr(
		checkNonZero(t, "operation_id", m.OperationID),
		checkNonZero(t, "drop_reason_code", m.Reason),
		checkRole(t, "source_role", m.SourceRole),
		checkMask(t, "flags", m.Flags, knownResultDropFlags),
	)
}

// Append validates m and appends its 32 bytes to b.
func (m *ResultDropReason) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ResultSequence)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = append(b, byte(m.SourceRole), byte(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	b = binary.LittleEndian.AppendUint64(b, 0) // reserved
	return b, nil
}

// ParseResultDropReason decodes and validates RESULT_DROP_REASON metadata
// from the start of b.
func ParseResultDropReason(b []byte) (ResultDropReason, int, error) {
	if len(b) < resultDropReasonLen {
		return ResultDropReason{}, 0, errShort(TypeResultDropReason, "metadata", resultDropReasonLen, len(b))
	}
	m := ResultDropReason{
		OperationID:     binary.LittleEndian.Uint64(b[0:]),
		ResultSequence:  binary.LittleEndian.Uint64(b[8:]),
		Reason:          DropReason(binary.LittleEndian.Uint16(b[16:])),
		SourceRole:      Role(b[18]),
		Flags:           ResultDropFlags(b[19]),
		DiagnosticBytes: binary.LittleEndian.Uint32(b[20:]),
	}
	if err := firstErr(
		m.validate(),
		checkZero(TypeResultDropReason, "reserved", binary.LittleEndian.Uint64(b[24:])),
	); err != nil {
		return ResultDropReason{}, 0, err
	}
	return m, resultDropReasonLen, nil
}
