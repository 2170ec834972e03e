package wire

import "encoding/binary"

// ReasonCode is the reason_code registry (C§7.1) carried by CANCEL, ABORT
// and RETRY_AFTER, and by ERROR_RECOVERABLE.recovery_action. Receivers do not
// validate it: 0x000C–0x00FF are reserved and 0x8000–0xFFFF private.
type ReasonCode uint16

// Reason codes.
const (
	ReasonUnspecified          ReasonCode = 0
	ReasonUserCancelled        ReasonCode = 1
	ReasonSuperseded           ReasonCode = 2
	ReasonDeadlineExpired      ReasonCode = 3
	ReasonBudgetExceeded       ReasonCode = 4
	ReasonDependencyFailed     ReasonCode = 5
	ReasonTransportClosing     ReasonCode = 6
	ReasonShutdown             ReasonCode = 7
	ReasonConformanceInjection ReasonCode = 8
)

var reasonCodeNames = []string{
	"unspecified", "user_cancelled", "superseded", "deadline_expired", "budget_exceeded",
	"dependency_failed", "transport_closing", "shutdown", "conformance_injection",
}

func (r ReasonCode) String() string { return registryName(reasonCodeNames, uint64(r), "reason_code") }

// registryName returns names[v], or "kind(v)" for a value the table does not
// name. It backs the String methods of the runtime-control registries.
func registryName(names []string, v uint64, kind string) string {
	if v < uint64(len(names)) && names[v] != "" {
		return names[v]
	}
	return kind + "(" + itoa(v) + ")"
}

// ControlRequestFlags is the flags byte of CANCEL and ABORT (C§7.2).
type ControlRequestFlags uint8

// Control request flags.
const (
	CooperativeAllowed ControlRequestFlags = 0x01
	HardAbortAllowed   ControlRequestFlags = 0x02

	knownControlRequestFlags = CooperativeAllowed | HardAbortAllowed
)

const controlRequestLen = 32

// Cancel is the metadata of CANCEL (type 0x30, 32 bytes, C§7.2): cooperative
// cancellation of one operation, which becomes cancelled. The body is a
// diagnostic of DiagnosticBytes bytes. ABORT shares the layout (Abort).
type Cancel struct {
	// OperationID is the target operation; 0 means session-level. The
	// header frame_id must match it (CheckOperationFrame).
	OperationID     uint64              `json:"operation_id"`
	ControlSequence uint64              `json:"control_sequence"` // monotonic per sender
	Reason          ReasonCode          `json:"reason_code"`
	SourceRole      Role                `json:"source_role"` // 0–7 or private 0x80–0xFF
	Flags           ControlRequestFlags `json:"flags"`
	DiagnosticBytes uint32              `json:"diagnostic_bytes"`
}

// Abort is the metadata of ABORT (type 0x31, 32 bytes, C§7.2): the operation
// is torn down and fails. Its layout and rules are those of Cancel.
type Abort Cancel

func (m *Cancel) check(t MessageType) error {
	return firstErr(
		checkRole(t, "source_role", m.SourceRole),
		checkMask(t, "flags", m.Flags, knownControlRequestFlags),
	)
}

func (m *Cancel) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ControlSequence)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = append(b, byte(m.SourceRole), byte(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	return binary.LittleEndian.AppendUint64(b, 0) // reserved
}

func parseControlRequest(t MessageType, b []byte) (Cancel, int, error) {
	if len(b) < controlRequestLen {
		return Cancel{}, 0, errShort(t, "metadata", controlRequestLen, len(b))
	}
	m := Cancel{
		OperationID:     binary.LittleEndian.Uint64(b[0:]),
		ControlSequence: binary.LittleEndian.Uint64(b[8:]),
		Reason:          ReasonCode(binary.LittleEndian.Uint16(b[16:])),
		SourceRole:      Role(b[18]),
		Flags:           ControlRequestFlags(b[19]),
		DiagnosticBytes: binary.LittleEndian.Uint32(b[20:]),
	}
	if err := firstErr(
		checkZero(t, "reserved", binary.LittleEndian.Uint64(b[24:])),
		m.check(t),
	); err != nil {
		return Cancel{}, 0, err
	}
	return m, controlRequestLen, nil
}

// Type returns TypeCancel.
func (*Cancel) Type() MessageType { return TypeCancel }

// Len returns 32.
func (*Cancel) Len() int { return controlRequestLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *Cancel) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

// CorrelatedOperation returns OperationID.
func (m *Cancel) CorrelatedOperation() uint64 { return m.OperationID }

func (m *Cancel) validate() error { return m.check(TypeCancel) }

// Append validates m and appends its 32 bytes to b.
func (m *Cancel) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// ParseCancel decodes and validates CANCEL metadata from the start of b.
func ParseCancel(b []byte) (Cancel, int, error) { return parseControlRequest(TypeCancel, b) }

// Type returns TypeAbort.
func (*Abort) Type() MessageType { return TypeAbort }

// Len returns 32.
func (*Abort) Len() int { return controlRequestLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *Abort) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

// CorrelatedOperation returns OperationID.
func (m *Abort) CorrelatedOperation() uint64 { return m.OperationID }

func (m *Abort) validate() error { return (*Cancel)(m).check(TypeAbort) }

// Append validates m and appends its 32 bytes to b.
func (m *Abort) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*Cancel)(m).put(b), nil
}

// ParseAbort decodes and validates ABORT metadata from the start of b.
func ParseAbort(b []byte) (Abort, int, error) {
	m, n, err := parseControlRequest(TypeAbort, b)
	return Abort(m), n, err
}
