package wire

import "encoding/binary"

// RecoverableFlags is the flags byte of ERROR_RECOVERABLE (C§5.4).
type RecoverableFlags uint8

// Recoverable error flags.
const (
	RecoverableRetryableNow       RecoverableFlags = 0x01
	RecoverableRetryAfterRequired RecoverableFlags = 0x02

	knownRecoverableFlags = RecoverableRetryableNow | RecoverableRetryAfterRequired
)

// RetryAfterFlags is the flags byte of RETRY_AFTER (C§5.4).
type RetryAfterFlags uint8

// Retry-after flags.
const (
	RetryAppliesToConnection RetryAfterFlags = 0x01
	RetryAppliesToOperation  RetryAfterFlags = 0x02

	knownRetryAfterFlags = RetryAppliesToConnection | RetryAppliesToOperation
)

const (
	errorRecoverableLen = 32
	retryAfterLen       = 32
)

// ErrorRecoverable is the metadata of ERROR_RECOVERABLE (type 0x48, 32 bytes,
// C§5.4, experimental control.recoverable_error): an error the peer may
// recover from. It does not terminate a frame. The body is a diagnostic of
// DiagnosticBytes bytes. Senders put RelatedFrameID in the header frame_id.
type ErrorRecoverable struct {
	Code           ErrorCode        `json:"error_code"`
	Scope          ErrorScope       `json:"error_scope"`
	RecoveryAction ReasonCode       `json:"recovery_action"`
	SourceRole     Role             `json:"source_role"`
	Flags          RecoverableFlags `json:"flags"`
	RetryAfterMS   uint32           `json:"retry_after_ms"` // 0 = no explicit delay
	// RelatedSessionID, RelatedFrameID and RelatedViewID name what failed.
	RelatedSessionID uint32 `json:"related_session_id"`
	RelatedFrameID   uint32 `json:"related_frame_id"`
	RelatedViewID    uint32 `json:"related_view_id"`
	DiagnosticBytes  uint32 `json:"diagnostic_bytes"`
}

// Type returns TypeErrorRecoverable.
func (*ErrorRecoverable) Type() MessageType { return TypeErrorRecoverable }

// Len returns 32.
func (*ErrorRecoverable) Len() int { return errorRecoverableLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *ErrorRecoverable) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

func (m *ErrorRecoverable) validate() error {
	return firstErr(
		checkMax(TypeErrorRecoverable, "error_scope", m.Scope, ScopeFrame),
		checkMask(TypeErrorRecoverable, "flags", m.Flags, knownRecoverableFlags),
	)
}

// Append validates m and appends its 32 bytes to b.
func (m *ErrorRecoverable) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Code))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Scope))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.RecoveryAction))
	b = append(b, byte(m.SourceRole), byte(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint32(b, m.RelatedSessionID)
	b = binary.LittleEndian.AppendUint32(b, m.RelatedFrameID)
	b = binary.LittleEndian.AppendUint32(b, m.RelatedViewID)
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	return b, nil
}

// ParseErrorRecoverable decodes and validates ERROR_RECOVERABLE metadata from
// the start of b.
func ParseErrorRecoverable(b []byte) (ErrorRecoverable, int, error) {
	if len(b) < errorRecoverableLen {
		return ErrorRecoverable{}, 0, errShort(TypeErrorRecoverable, "metadata", errorRecoverableLen, len(b))
	}
	m := ErrorRecoverable{
		Code:             ErrorCode(binary.LittleEndian.Uint32(b[0:])),
		Scope:            ErrorScope(binary.LittleEndian.Uint32(b[4:])),
		RecoveryAction:   ReasonCode(binary.LittleEndian.Uint16(b[8:])),
		SourceRole:       Role(b[10]),
		Flags:            RecoverableFlags(b[11]),
		RetryAfterMS:     binary.LittleEndian.Uint32(b[12:]),
		RelatedSessionID: binary.LittleEndian.Uint32(b[16:]),
		RelatedFrameID:   binary.LittleEndian.Uint32(b[20:]),
		RelatedViewID:    binary.LittleEndian.Uint32(b[24:]),
		DiagnosticBytes:  binary.LittleEndian.Uint32(b[28:]),
	}
	if err := m.validate(); err != nil {
		return ErrorRecoverable{}, 0, err
	}
	return m, errorRecoverableLen, nil
}

// RetryAfter is the metadata of RETRY_AFTER (type 0x49, 32 bytes, C§5.4,
// experimental control.recoverable_error): the peer should wait before
// retrying. The body is a diagnostic of DiagnosticBytes bytes. Senders use
// header frame_id 0.
type RetryAfter struct {
	ScopeID         uint64          `json:"scope_id"`         // 0 = connection, else session or operation scope
	ControlSequence uint64          `json:"control_sequence"` // monotonic per sender
	RetryAfterMS    uint32          `json:"retry_after_ms"`   // minimum delay
	JitterMS        uint32          `json:"jitter_ms"`        // jitter window
	Reason          ReasonCode      `json:"reason_code"`
	SourceRole      Role            `json:"source_role"`
	Flags           RetryAfterFlags `json:"flags"`
	DiagnosticBytes uint32          `json:"diagnostic_bytes"`
}

// Type returns TypeRetryAfter.
func (*RetryAfter) Type() MessageType { return TypeRetryAfter }

// Len returns 32.
func (*RetryAfter) Len() int { return retryAfterLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *RetryAfter) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

func (m *RetryAfter) validate() error {
	return checkMask(TypeRetryAfter, "flags", m.Flags, knownRetryAfterFlags)
}

// Append validates m and appends its 32 bytes to b.
func (m *RetryAfter) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.ScopeID)
	b = binary.LittleEndian.AppendUint64(b, m.ControlSequence)
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint32(b, m.JitterMS)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = append(b, byte(m.SourceRole), byte(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	return b, nil
}

// ParseRetryAfter decodes and validates RETRY_AFTER metadata from the start of
// b.
func ParseRetryAfter(b []byte) (RetryAfter, int, error) {
	if len(b) < retryAfterLen {
		return RetryAfter{}, 0, errShort(TypeRetryAfter, "metadata", retryAfterLen, len(b))
	}
	m := RetryAfter{
		ScopeID:         binary.LittleEndian.Uint64(b[0:]),
		ControlSequence: binary.LittleEndian.Uint64(b[8:]),
		RetryAfterMS:    binary.LittleEndian.Uint32(b[16:]),
		JitterMS:        binary.LittleEndian.Uint32(b[20:]),
		Reason:          ReasonCode(binary.LittleEndian.Uint16(b[24:])),
		SourceRole:      Role(b[26]),
		Flags:           RetryAfterFlags(b[27]),
		DiagnosticBytes: binary.LittleEndian.Uint32(b[28:]),
	}
	if err := m.validate(); err != nil {
		return RetryAfter{}, 0, err
	}
	return m, retryAfterLen, nil
}
