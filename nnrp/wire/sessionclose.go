package wire

import "encoding/binary"

// CloseReason is SESSION_CLOSE.close_reason (C§4.1).
type CloseReason uint16

// Close reasons.
const (
	CloseReasonNormal         CloseReason = 0
	CloseReasonClientShutdown CloseReason = 1
	CloseReasonServerShutdown CloseReason = 2
	CloseReasonIdleTimeout    CloseReason = 3
	CloseReasonProtocolError  CloseReason = 4
	CloseReasonAuthRevoked    CloseReason = 5
)

var closeReasonNames = []string{"normal", "client_shutdown", "server_shutdown", "idle_timeout", "protocol_error", "auth_revoked"}

func (r CloseReason) String() string { return ctlEnumName(closeReasonNames, uint64(r), "close_reason") }

// InFlightPolicy is SESSION_CLOSE.in_flight_policy (C§4.1).
type InFlightPolicy uint8

// In-flight policies.
const (
	InFlightDrain InFlightPolicy = 0 // finish in-flight operations
	InFlightAbort InFlightPolicy = 1 // abandon them
)

var inFlightPolicyNames = []string{"drain", "abort"}

func (p InFlightPolicy) String() string {
	return ctlEnumName(inFlightPolicyNames, uint64(p), "in_flight_policy")
}

// CloseStatus is SESSION_CLOSE_ACK.close_status (C§4.1).
type CloseStatus uint8

// Close statuses.
const (
	CloseStatusAcknowledged CloseStatus = 0
	CloseStatusDraining     CloseStatus = 1
	CloseStatusClosed       CloseStatus = 2
	CloseStatusRejected     CloseStatus = 3
)

var closeStatusNames = []string{"acknowledged", "draining", "closed", "rejected"}

func (s CloseStatus) String() string { return ctlEnumName(closeStatusNames, uint64(s), "close_status") }

const (
	sessionCloseLen    = 24
	sessionCloseAckLen = 16
)

// SessionClose is the metadata of SESSION_CLOSE (type 0x09, 24 bytes, C§4.5).
// It closes the session named by the header; no body.
type SessionClose struct {
	Reason           CloseReason    `json:"close_reason"`
	InFlightPolicy   InFlightPolicy `json:"in_flight_policy"`
	DrainTimeoutMS   uint32         `json:"drain_timeout_ms"`  // 0 = immediately
	LastOperationID  uint64         `json:"last_operation_id"` // highest operation the sender acknowledges; 0 = none
	SessionErrorCode ErrorCode      `json:"session_error_code"`
	SessionCloseTag  uint32         `json:"session_close_tag"`
}

// Type returns TypeSessionClose.
func (*SessionClose) Type() MessageType { return TypeSessionClose }

// Len returns 24.
func (*SessionClose) Len() int { return sessionCloseLen }

// ExpectedBodyLen returns 0: SESSION_CLOSE has no body.
func (*SessionClose) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *SessionClose) validate() error {
	return firstErr(
		checkMax(TypeSessionClose, "close_reason", m.Reason, CloseReasonAuthRevoked),
		checkMax(TypeSessionClose, "in_flight_policy", m.InFlightPolicy, InFlightAbort),
	)
}

// CheckHeader enforces the scope of SESSION_CLOSE (C§4.5): a non-zero header
// session_id and frame_id 0.
func (m *SessionClose) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeSessionClose, h, true)
}

// Append validates m and appends its 24 bytes to b.
func (m *SessionClose) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionClose) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = append(b, byte(m.InFlightPolicy), 0) // byte 3 reserved
	b = binary.LittleEndian.AppendUint32(b, m.DrainTimeoutMS)
	b = binary.LittleEndian.AppendUint64(b, m.LastOperationID)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.SessionErrorCode))
	b = binary.LittleEndian.AppendUint32(b, m.SessionCloseTag)
	return b
}

// ParseSessionClose decodes and validates SESSION_CLOSE metadata from the
// start of b.
func ParseSessionClose(b []byte) (SessionClose, int, error) {
	if len(b) < sessionCloseLen {
		return SessionClose{}, 0, errShort(TypeSessionClose, "metadata", sessionCloseLen, len(b))
	}
	m := SessionClose{
		Reason:           CloseReason(binary.LittleEndian.Uint16(b[0:])),
		InFlightPolicy:   InFlightPolicy(b[2]),
		DrainTimeoutMS:   binary.LittleEndian.Uint32(b[4:]),
		LastOperationID:  binary.LittleEndian.Uint64(b[8:]),
		SessionErrorCode: ErrorCode(binary.LittleEndian.Uint32(b[16:])),
		SessionCloseTag:  binary.LittleEndian.Uint32(b[20:]),
	}
	if err := checkZero(TypeSessionClose, "reserved", b[3]); err != nil {
		return SessionClose{}, 0, err
	}
	if err := m.validate(); err != nil {
		return SessionClose{}, 0, err
	}
	return m, sessionCloseLen, nil
}

// SessionCloseAck is the metadata of SESSION_CLOSE_ACK (type 0x0a, 16 bytes,
// C§4.5). It must be the next packet of the session after SESSION_CLOSE; no
// body.
type SessionCloseAck struct {
	Status           CloseStatus `json:"close_status"`
	LastOperationID  uint64      `json:"last_operation_id"` // watermark confirmed (echo of the request)
	SessionErrorCode ErrorCode   `json:"session_error_code"`
}

// Type returns TypeSessionCloseAck.
func (*SessionCloseAck) Type() MessageType { return TypeSessionCloseAck }

// Len returns 16.
func (*SessionCloseAck) Len() int { return sessionCloseAckLen }

// ExpectedBodyLen returns 0: SESSION_CLOSE_ACK has no body.
func (*SessionCloseAck) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *SessionCloseAck) validate() error {
	return checkMax(TypeSessionCloseAck, "close_status", m.Status, CloseStatusRejected)
}

// CheckHeader enforces the scope of SESSION_CLOSE_ACK (C§4.5, ERRATA 3): a
// non-zero header session_id and frame_id 0.
func (m *SessionCloseAck) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeSessionCloseAck, h, true)
}

// Append validates m and appends its 16 bytes to b.
func (m *SessionCloseAck) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionCloseAck) put(b []byte) []byte {
	b = append(b, byte(m.Status), 0, 0, 0) // bytes 1–3 reserved
	b = binary.LittleEndian.AppendUint64(b, m.LastOperationID)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.SessionErrorCode))
	return b
}

// ParseSessionCloseAck decodes and validates SESSION_CLOSE_ACK metadata from
// the start of b.
func ParseSessionCloseAck(b []byte) (SessionCloseAck, int, error) {
	if len(b) < sessionCloseAckLen {
		return SessionCloseAck{}, 0, errShort(TypeSessionCloseAck, "metadata", sessionCloseAckLen, len(b))
	}
	m := SessionCloseAck{
		Status:           CloseStatus(b[0]),
		LastOperationID:  binary.LittleEndian.Uint64(b[4:]),
		SessionErrorCode: ErrorCode(binary.LittleEndian.Uint32(b[12:])),
	}
	if err := checkZero(TypeSessionCloseAck, "reserved", binary.LittleEndian.Uint32(b[0:])>>8); err != nil { // bytes 1–3
		return SessionCloseAck{}, 0, err
	}
	if err := m.validate(); err != nil {
		return SessionCloseAck{}, 0, err
	}
	return m, sessionCloseAckLen, nil
}
