package wire

import "encoding/binary"

// SupersedeFlags is the flags field of SUPERSEDE (C§7.7).
type SupersedeFlags uint16

// Supersede flags.
const (
	// SupersedeAbortOld aborts the old operation immediately.
	SupersedeAbortOld SupersedeFlags = 0x0001

	knownSupersedeFlags = SupersedeAbortOld
)

const supersedeLen = 32

// Supersede is the metadata of SUPERSEDE (type 0x35, 32 bytes, C§7.7,
// experimental): NewOperationID replaces OldOperationID. The header frame_id
// correlates to OldOperationID (CheckOperationFrame). The body is a
// diagnostic of DiagnosticBytes bytes.
type Supersede struct {
	OldOperationID  uint64         `json:"old_operation_id"`
	NewOperationID  uint64         `json:"new_operation_id"`
	ControlSequence uint64         `json:"control_sequence"` // monotonic per sender
	Reason          DropReason     `json:"drop_reason_code"` // reported for the old operation
	Flags           SupersedeFlags `json:"flags"`
	DiagnosticBytes uint32         `json:"diagnostic_bytes"`
}

// Type returns TypeSupersede.
func (*Supersede) Type() MessageType { return TypeSupersede }

// Len returns 32.
func (*Supersede) Len() int { return supersedeLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *Supersede) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

// CorrelatedOperation returns OldOperationID, the operation the header
// frame_id must be bound to.
func (m *Supersede) CorrelatedOperation() uint64 { return m.OldOperationID }

func (m *Supersede) validate() error {
	return checkMask(TypeSupersede, "flags", m.Flags, knownSupersedeFlags)
}

// Append validates m and appends its 32 bytes to b.
func (m *Supersede) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.OldOperationID)
	b = binary.LittleEndian.AppendUint64(b, m.NewOperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ControlSequence)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	return b, nil
}

// ParseSupersede decodes and validates SUPERSEDE metadata from the start of b.
func ParseSupersede(b []byte) (Supersede, int, error) {
	if len(b) < supersedeLen {
		return Supersede{}, 0, errShort(TypeSupersede, "metadata", supersedeLen, len(b))
	}
	m := Supersede{
		OldOperationID:  binary.LittleEndian.Uint64(b[0:]),
		NewOperationID:  binary.LittleEndian.Uint64(b[8:]),
		ControlSequence: binary.LittleEndian.Uint64(b[16:]),
		Reason:          DropReason(binary.LittleEndian.Uint16(b[24:])),
		Flags:           SupersedeFlags(binary.LittleEndian.Uint16(b[26:])),
		DiagnosticBytes: binary.LittleEndian.Uint32(b[28:]),
	}
	if err := m.validate(); err != nil {
		return Supersede{}, 0, err
	}
	return m, supersedeLen, nil
}
