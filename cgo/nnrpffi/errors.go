package nnrpffi

import (
	"errors"
	"fmt"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// StatusCode is the status_code of the 16-byte status every ABI call returns.
// A StatusCode is also an error value, so a returned *Error can be matched with
// errors.Is(err, nnrpffi.StatusInvalidState).
type StatusCode uint32

// Status codes of C ABI 4.4.
const (
	StatusOK               StatusCode = 0
	StatusInvalidArgument  StatusCode = 1
	StatusInvalidHandle    StatusCode = 2
	StatusInvalidState     StatusCode = 3 // also "transport closed"
	StatusProtocolError    StatusCode = 4 // family 1: ProtocolCode is the session error code
	StatusWouldBlock       StatusCode = 5 // a timeout, including the fixed 30 s of calls without one
	StatusCallbackRejected StatusCode = 6
	StatusInternal         StatusCode = 0xFFFF // also every TLS / QUIC handshake failure (detail 106)
)

var statusNames = map[StatusCode]string{
	StatusOK:               "ok",
	StatusInvalidArgument:  "invalid argument",
	StatusInvalidHandle:    "invalid handle",
	StatusInvalidState:     "invalid state",
	StatusProtocolError:    "protocol error",
	StatusWouldBlock:       "would block",
	StatusCallbackRejected: "callback rejected",
	StatusInternal:         "internal error",
}

func (c StatusCode) String() string {
	if s, ok := statusNames[c]; ok {
		return s
	}
	return fmt.Sprintf("status 0x%x", uint32(c))
}

// Error makes a StatusCode usable as an errors.Is target.
func (c StatusCode) Error() string { return "nnrp ffi: " + c.String() }

// ErrorFamily is the error_family of a status.
type ErrorFamily uint32

// Error families of C ABI 4.4.
const (
	FamilyNone          ErrorFamily = 0
	FamilySession       ErrorFamily = 1
	FamilyCache         ErrorFamily = 2
	FamilySchema        ErrorFamily = 3
	FamilyTransport     ErrorFamily = 4
	FamilyLifecycle     ErrorFamily = 5
	FamilyOperation     ErrorFamily = 6
	FamilyControl       ErrorFamily = 7
	FamilyRuntimeObject ErrorFamily = 8
	FamilyInternal      ErrorFamily = 0xFFFF
)

var familyNames = map[ErrorFamily]string{
	FamilyNone:          "none",
	FamilySession:       "session",
	FamilyCache:         "cache",
	FamilySchema:        "schema",
	FamilyTransport:     "transport",
	FamilyLifecycle:     "lifecycle",
	FamilyOperation:     "operation",
	FamilyControl:       "control",
	FamilyRuntimeObject: "runtime_object",
	FamilyInternal:      "internal",
}

func (f ErrorFamily) String() string {
	if s, ok := familyNames[f]; ok {
		return s
	}
	return fmt.Sprintf("family 0x%x", uint32(f))
}

// Error is a non-OK status returned by the library. It matches its StatusCode
// with errors.Is.
type Error struct {
	Op           string // the ABI entry point, e.g. "nnrp_client_submit"
	Code         StatusCode
	Family       ErrorFamily
	ProtocolCode wire.ErrorCode // protocol_error_code (family session: a wire.Session* code)
	Detail       uint32         // detail_code
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s (family %s", e.Op, e.Code.String(), e.Family)
	if e.ProtocolCode != 0 {
		s += fmt.Sprintf(", protocol error 0x%08x", uint32(e.ProtocolCode))
	}
	return s + fmt.Sprintf(", detail %d)", e.Detail)
}

// Is reports whether target is e's StatusCode.
func (e *Error) Is(target error) bool {
	c, ok := target.(StatusCode)
	return ok && c == e.Code
}

// ErrClosed is returned by a method of a Lib object (connection, session,
// server) after its Close, or after the object that owns it was closed.
var ErrClosed = errors.New("nnrp ffi: handle closed")
