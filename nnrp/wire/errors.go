package wire

import (
	"errors"
	"fmt"
	"io"
)

// ErrorCode is an NNRP status code as carried by ERROR.error_code,
// ERROR_RECOVERABLE.error_code and the session_error_code fields (C§5.3).
type ErrorCode uint32

// Baseline protocol errors (C§5.3).
const (
	CodeNone                  ErrorCode = 0x00000000
	CodeUnsupportedVersion    ErrorCode = 0x00000001
	CodeAuthFailed            ErrorCode = 0x00000002
	CodeInvalidState          ErrorCode = 0x00000003
	CodeMalformedHeader       ErrorCode = 0x00000004
	CodeMalformedBody         ErrorCode = 0x00000005
	CodeUnsupportedCapability ErrorCode = 0x00000006
	CodeLimitExceeded         ErrorCode = 0x00000007
	CodeFrameExpired          ErrorCode = 0x00000008
	CodeFrameCancelled        ErrorCode = 0x00000009
	CodeCacheMiss             ErrorCode = 0x0000000A
	CodeServerBusy            ErrorCode = 0x0000000B
	CodeInternalError         ErrorCode = 0x0000000C
)

// Session errors carried by SESSION_OPEN_ACK and SESSION_CLOSE(_ACK) (C§5.3).
const (
	SessionAuthFailed          ErrorCode = 0x00010001
	SessionProfileUnsupported  ErrorCode = 0x00010002
	SessionSchemaUnsupported   ErrorCode = 0x00010003
	SessionPriorityRejected    ErrorCode = 0x00010004
	SessionLeasePolicyRejected ErrorCode = 0x00010005
	SessionResumeRejected      ErrorCode = 0x00010006
	SessionLimitReached        ErrorCode = 0x00010007
)

// Cache errors (C§5.3, D§11.5).
const (
	CacheErrNone              ErrorCode = 0x00030000
	CacheErrMiss              ErrorCode = 0x00030001
	CacheErrLeaseExpired      ErrorCode = 0x00030002
	CacheErrVersionMismatch   ErrorCode = 0x00030003
	CacheErrDependencyInvalid ErrorCode = 0x00030004
	CacheErrSchemaMismatch    ErrorCode = 0x00030005
)

// Schema errors (C§5.3, D§11.5).
const (
	SchemaErrNone              ErrorCode = 0x00040000
	SchemaErrUnknown           ErrorCode = 0x00040001
	SchemaErrVersionUnknown    ErrorCode = 0x00040002
	SchemaErrHashConflict      ErrorCode = 0x00040003
	SchemaErrIncompatible      ErrorCode = 0x00040004
	SchemaErrDependencyMissing ErrorCode = 0x00040005
	SchemaErrUpdateRejected    ErrorCode = 0x00040006
)

var codeNames = map[ErrorCode]string{
	CodeNone:                   "none",
	CodeUnsupportedVersion:     "unsupported_version",
	CodeAuthFailed:             "auth_failed",
	CodeInvalidState:           "invalid_state",
	CodeMalformedHeader:        "malformed_header",
	CodeMalformedBody:          "malformed_body",
	CodeUnsupportedCapability:  "unsupported_capability",
	CodeLimitExceeded:          "limit_exceeded",
	CodeFrameExpired:           "frame_expired",
	CodeFrameCancelled:         "frame_cancelled",
	CodeCacheMiss:              "cache_miss",
	CodeServerBusy:             "server_busy",
	CodeInternalError:          "internal_error",
	SessionAuthFailed:          "session_auth_failed",
	SessionProfileUnsupported:  "profile_unsupported",
	SessionSchemaUnsupported:   "schema_unsupported",
	SessionPriorityRejected:    "priority_rejected",
	SessionLeasePolicyRejected: "lease_policy_rejected",
	SessionResumeRejected:      "resume_rejected",
	SessionLimitReached:        "session_limit_reached",
	CacheErrNone:               "cache_none",
	CacheErrMiss:               "cache_miss",
	CacheErrLeaseExpired:       "lease_expired",
	CacheErrVersionMismatch:    "version_mismatch",
	CacheErrDependencyInvalid:  "dependency_invalid",
	CacheErrSchemaMismatch:     "schema_mismatch",
	SchemaErrNone:              "schema_none",
	SchemaErrUnknown:           "schema_unknown",
	SchemaErrVersionUnknown:    "schema_version_unknown",
	SchemaErrHashConflict:      "schema_hash_conflict",
	SchemaErrIncompatible:      "schema_incompatible",
	SchemaErrDependencyMissing: "schema_dependency_missing",
	SchemaErrUpdateRejected:    "schema_update_rejected",
}

func (c ErrorCode) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("error_code(0x%08x)", uint32(c))
}

// HeaderError reports a packet whose 40-byte common header or framing is
// invalid (C§1). The byte stream cannot be resynchronised after it, so it is
// always fatal for the connection: send ERROR{Code, scope connection, fatal}
// and close.
type HeaderError struct {
	Code   ErrorCode // malformed_header, unsupported_version or limit_exceeded
	Field  string    // header field that failed, e.g. "magic"
	Reason string
	err    error // wrapped cause (io.ErrUnexpectedEOF for short input), may be nil
}

func (e *HeaderError) Error() string {
	return "nnrp: header " + e.Field + ": " + e.Reason
}

func (e *HeaderError) Unwrap() error { return e.err }

// MessageError reports a well-framed packet whose metadata or body violates
// the spec. The connection's byte stream is still in sync; the session layer
// decides the scope (fatal during the handshake, one operation for a
// FRAME_SUBMIT, ...).
type MessageError struct {
	Type   MessageType
	Code   ErrorCode // usually malformed_body
	Field  string    // metadata or body field that failed
	Reason string
	err    error // wrapped cause (io.ErrUnexpectedEOF for short input), may be nil
}

func (e *MessageError) Error() string {
	return "nnrp: " + e.Type.String() + " " + e.Field + ": " + e.Reason
}

func (e *MessageError) Unwrap() error { return e.err }

// CodeOf returns the NNRP error code carried by err, if err is or wraps a
// *HeaderError or *MessageError.
func CodeOf(err error) (ErrorCode, bool) {
	var he *HeaderError
	if errors.As(err, &he) {
		return he.Code, true
	}
	var me *MessageError
	if errors.As(err, &me) {
		return me.Code, true
	}
	return 0, false
}

// errShort reports that b holds fewer bytes than a structure needs.
func errShort(t MessageType, field string, need, have int) error {
	return &MessageError{Type: t, Code: CodeMalformedBody, Field: field,
		Reason: fmt.Sprintf("need %d bytes, have %d", need, have), err: io.ErrUnexpectedEOF}
}

// errInvalid reports a malformed field with a formatted reason.
func errInvalid(t MessageType, field, format string, args ...any) error {
	return &MessageError{Type: t, Code: CodeMalformedBody, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// errCode reports a violation that carries a code other than malformed_body.
func errCode(t MessageType, code ErrorCode, field, format string, args ...any) error {
	return &MessageError{Type: t, Code: code, Field: field, Reason: fmt.Sprintf(format, args...)}
}

type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// checkZero enforces a reserved field: senders write zero, receivers reject
// anything else.
func checkZero[T unsigned](t MessageType, field string, v T) error {
	if v != 0 {
		return errInvalid(t, field, "reserved field is %d, must be 0", uint64(v))
	}
	return nil
}

// checkMask rejects bits outside the field's known mask.
func checkMask[T unsigned](t MessageType, field string, v, known T) error {
	if v&^known != 0 {
		return errInvalid(t, field, "unknown bits 0x%x (known mask 0x%x)", uint64(v&^known), uint64(known))
	}
	return nil
}

// checkMax rejects an enumeration value above the largest known one.
func checkMax[T unsigned](t MessageType, field string, v, max T) error {
	if v > max {
		return errInvalid(t, field, "unknown value %d (largest known %d)", uint64(v), uint64(max))
	}
	return nil
}

// checkNonZero rejects a zero value in a field that must be set.
func checkNonZero[T unsigned](t MessageType, field string, v T) error {
	if v == 0 {
		return errInvalid(t, field, "must be non-zero")
	}
	return nil
}

// firstErr returns the first non-nil error, so a validate method can list its
// checks in spec order.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
