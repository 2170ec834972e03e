package wire

import "encoding/binary"

// ErrorScope is ERROR.error_scope and ERROR_RECOVERABLE.error_scope (C§5.2).
type ErrorScope uint32

// Error scopes.
const (
	ScopeConnection ErrorScope = 0
	ScopeSession    ErrorScope = 1
	ScopeFrame      ErrorScope = 2
)

const errorMessageLen = 32

// ErrorMessage is the metadata of ERROR (type 0x06, 32 bytes, C§5.2). The
// body is a UTF-8 diagnostic of DiagnosticBytes bytes. By convention the
// header carries session_id = RelatedSessionID, frame_id = RelatedFrameID and
// view_id = RelatedViewID.
type ErrorMessage struct {
	Code             ErrorCode  `json:"error_code"`
	Scope            ErrorScope `json:"error_scope"`
	Fatal            uint32     `json:"is_fatal"` // 0 or 1
	RetryAfterMS     uint32     `json:"retry_after_ms"`
	RelatedSessionID uint32     `json:"related_session_id"`
	RelatedFrameID   uint32     `json:"related_frame_id"`
	RelatedViewID    uint32     `json:"related_view_id"`
	DiagnosticBytes  uint32     `json:"diagnostic_bytes"`
}

// Type returns TypeError.
func (*ErrorMessage) Type() MessageType { return TypeError }

// Len returns 32.
func (*ErrorMessage) Len() int { return errorMessageLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *ErrorMessage) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

func (m *ErrorMessage) validate() error {
	return firstErr(
		checkMax(TypeError, "error_scope", m.Scope, ScopeFrame),
		checkMax(TypeError, "is_fatal", m.Fatal, 1),
	)
}

// Append validates m and appends its 32 bytes to b.
func (m *ErrorMessage) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Code))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Scope))
	b = binary.LittleEndian.AppendUint32(b, m.Fatal)
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint32(b, m.RelatedSessionID)
	b = binary.LittleEndian.AppendUint32(b, m.RelatedFrameID)
	b = binary.LittleEndian.AppendUint32(b, m.RelatedViewID)
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	return b, nil
}

// ParseErrorMessage decodes and validates ERROR metadata from the start of b.
func ParseErrorMessage(b []byte) (ErrorMessage, int, error) {
	if len(b) < errorMessageLen {
		return ErrorMessage{}, 0, errShort(TypeError, "metadata", errorMessageLen, len(b))
	}
	m := ErrorMessage{
		Code:             ErrorCode(binary.LittleEndian.Uint32(b[0:])),
		Scope:            ErrorScope(binary.LittleEndian.Uint32(b[4:])),
		Fatal:            binary.LittleEndian.Uint32(b[8:]),
		RetryAfterMS:     binary.LittleEndian.Uint32(b[12:]),
		RelatedSessionID: binary.LittleEndian.Uint32(b[16:]),
		RelatedFrameID:   binary.LittleEndian.Uint32(b[20:]),
		RelatedViewID:    binary.LittleEndian.Uint32(b[24:]),
		DiagnosticBytes:  binary.LittleEndian.Uint32(b[28:]),
	}
	if err := m.validate(); err != nil {
		return ErrorMessage{}, 0, err
	}
	return m, errorMessageLen, nil
}
