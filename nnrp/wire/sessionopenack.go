package wire

import "encoding/binary"

// SessionStatus is SESSION_OPEN_ACK.session_status (C§4.1).
type SessionStatus uint8

// Session statuses.
const (
	SessionOpened     SessionStatus = 0
	SessionRejected   SessionStatus = 1
	SessionRetryLater SessionStatus = 2
	SessionResumed    SessionStatus = 3
)

var sessionStatusNames = []string{"opened", "rejected", "retry_later", "resumed"}

func (s SessionStatus) String() string {
	return ctlEnumName(sessionStatusNames, uint64(s), "session_status")
}

// Accepted reports whether s opens a session (opened or resumed).
func (s SessionStatus) Accepted() bool { return s == SessionOpened || s == SessionResumed }

// SessionAckFlags is SESSION_OPEN_ACK.session_flags_ack (C§4.1). Bits 0–3
// confirm the request flags of the same position; PriorityDowngraded reports
// a lower class than requested.
type SessionAckFlags uint32

// Session ack flags.
const (
	SessionResumeEnabled            SessionAckFlags = 0x01
	SessionBackgroundResultsEnabled SessionAckFlags = 0x02
	SessionCacheLeasesEnabled       SessionAckFlags = 0x04
	SessionSchemaOverrideEnabled    SessionAckFlags = 0x08
	SessionPriorityDowngraded       SessionAckFlags = 0x10

	knownSessionAckFlags SessionAckFlags = 0x1F
)

const sessionOpenAckLen = 56

// SessionOpenAck is the metadata of SESSION_OPEN_ACK (type 0x08, 56 bytes,
// C§4.3). The body is resume_token_block ‖ session_extension_block (for a
// rejected session: a UTF-8 diagnostic); see SplitBody.
type SessionOpenAck struct {
	SessionID              uint32          `json:"session_id"` // allocated id; 0 unless opened/resumed
	AcceptedProfileID      ProfileID       `json:"accepted_profile_id"`
	AcceptedPriorityClass  PriorityClass   `json:"accepted_priority_class"`
	Status                 SessionStatus   `json:"session_status"`
	SchemaID               uint32          `json:"schema_id"`
	SchemaVersion          uint32          `json:"schema_version"`
	GrantedOperationCredit uint16          `json:"granted_operation_credit"`
	MaxInFlightOperations  uint16          `json:"max_in_flight_operations"`
	LeaseTTLMS             uint32          `json:"lease_ttl_ms"`
	ResumeWindowMS         uint32          `json:"resume_window_ms"`
	ResumeTokenBytes       uint32          `json:"resume_token_bytes"` // 0 = no token
	SessionExtensionBytes  uint32          `json:"session_extension_bytes"`
	ServerSessionTag       uint64          `json:"server_session_tag"`
	RouteScopeID           uint32          `json:"route_scope_id"`
	SessionErrorCode       ErrorCode       `json:"session_error_code"` // 0 or a 0x0001xxxx code
	Flags                  SessionAckFlags `json:"session_flags_ack"`
}

// Type returns TypeSessionOpenAck.
func (*SessionOpenAck) Type() MessageType { return TypeSessionOpenAck }

// Len returns 56.
func (*SessionOpenAck) Len() int { return sessionOpenAckLen }

// ExpectedBodyLen returns ResumeTokenBytes + SessionExtensionBytes.
func (m *SessionOpenAck) ExpectedBodyLen() (uint64, bool) {
	return uint64(m.ResumeTokenBytes) + uint64(m.SessionExtensionBytes), true
}

func (m *SessionOpenAck) validate() error {
	const t = TypeSessionOpenAck
	return firstErr(
		checkMax(t, "accepted_priority_class", m.AcceptedPriorityClass, PriorityBackground),
		checkMax(t, "session_status", m.Status, SessionResumed),
		checkMask(t, "session_flags_ack", m.Flags, knownSessionAckFlags),
	)
}

// CheckForRequest applies the client-side acceptance rules of C§4.3 to m as
// the answer to open (violations are CodeMalformedBody):
//   - opened/resumed carry a non-zero session_id and no extension bytes;
//     rejected/retry_later carry session_id 0;
//   - resume_enabled implies a non-zero resume window and a token;
//   - resumed implies that open carried a token, no error code and
//     resume_enabled;
//   - bits 0–3 of session_flags_ack only confirm flags open requested.
//
// Whether the id is already in use on the connection and whether the token
// fits the client's capacity are for the caller.
func (m *SessionOpenAck) CheckForRequest(open *SessionOpen) error {
	const t = TypeSessionOpenAck
	switch {
	case m.Status.Accepted() && m.SessionID == 0:
		return errInvalid(t, "session_id", "%s session without an id", m.Status)
	case m.Status.Accepted() && m.SessionExtensionBytes != 0:
		return errInvalid(t, "session_extension_bytes", "%s session carries %d extension bytes", m.Status, m.SessionExtensionBytes)
	case !m.Status.Accepted() && m.SessionID != 0:
		return errInvalid(t, "session_id", "%s session names id %d", m.Status, m.SessionID)
	case m.Flags&SessionResumeEnabled != 0 && m.ResumeWindowMS == 0:
		return errInvalid(t, "resume_window_ms", "resume enabled with a zero window")
	case m.Flags&SessionResumeEnabled != 0 && m.ResumeTokenBytes == 0:
		return errInvalid(t, "resume_token_bytes", "resume enabled without a token")
	case m.Status == SessionResumed && open.ResumeTokenBytes == 0:
		return errInvalid(t, "session_status", "resumed, but the request carried no resume token")
	case m.Status == SessionResumed && m.SessionErrorCode != CodeNone:
		return errInvalid(t, "session_error_code", "resumed with error %s", m.SessionErrorCode)
	case m.Status == SessionResumed && m.Flags&SessionResumeEnabled == 0:
		return errInvalid(t, "session_flags_ack", "resumed without resume_enabled")
	}
	if extra := uint32(m.Flags) & uint32(knownSessionFlags) &^ uint32(open.Flags); extra != 0 {
		return errInvalid(t, "session_flags_ack", "confirms flags 0x%x that were not requested", extra)
	}
	return nil
}

// CheckHeader enforces the header of SESSION_OPEN_ACK (C§4.3): session_id
// equals the allocated id for an opened or resumed session and is 0
// otherwise (invalid_state); frame_id is 0.
func (m *SessionOpenAck) CheckHeader(h *Header) error {
	want := uint32(0)
	if m.Status.Accepted() {
		want = m.SessionID
	}
	if h.SessionID != want {
		return errCode(TypeSessionOpenAck, CodeInvalidState, "header.session_id",
			"got %d, want %d for a %s session", h.SessionID, want, m.Status)
	}
	return ctlNoFrame(TypeSessionOpenAck, h)
}

// SplitBody splits a SESSION_OPEN_ACK body into the resume token and the
// session extension block. The results alias body. It fails with
// CodeMalformedBody unless len(body) equals ExpectedBodyLen.
func (m *SessionOpenAck) SplitBody(body []byte) (token, ext []byte, err error) {
	if want, _ := m.ExpectedBodyLen(); uint64(len(body)) != want {
		return nil, nil, errInvalid(TypeSessionOpenAck, "body_len", "got %d, metadata implies %d", len(body), want)
	}
	n := int(m.ResumeTokenBytes)
	return body[:n:n], body[n:], nil
}

// Append validates m and appends its 56 bytes to b.
func (m *SessionOpenAck) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionOpenAck) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, m.SessionID)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.AcceptedProfileID))
	b = append(b, byte(m.AcceptedPriorityClass), byte(m.Status))
	b = binary.LittleEndian.AppendUint32(b, m.SchemaID)
	b = binary.LittleEndian.AppendUint32(b, m.SchemaVersion)
	b = binary.LittleEndian.AppendUint16(b, m.GrantedOperationCredit)
	b = binary.LittleEndian.AppendUint16(b, m.MaxInFlightOperations)
	b = binary.LittleEndian.AppendUint32(b, m.LeaseTTLMS)
	b = binary.LittleEndian.AppendUint32(b, m.ResumeWindowMS)
	b = binary.LittleEndian.AppendUint32(b, m.ResumeTokenBytes)
	b = binary.LittleEndian.AppendUint32(b, m.SessionExtensionBytes)
	b = binary.LittleEndian.AppendUint64(b, m.ServerSessionTag)
	b = binary.LittleEndian.AppendUint32(b, m.RouteScopeID)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.SessionErrorCode))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return b
}

// ParseSessionOpenAck decodes and validates SESSION_OPEN_ACK metadata from
// the start of b. The rules relating it to its request are in
// CheckForRequest.
func ParseSessionOpenAck(b []byte) (SessionOpenAck, int, error) {
	if len(b) < sessionOpenAckLen {
		return SessionOpenAck{}, 0, errShort(TypeSessionOpenAck, "metadata", sessionOpenAckLen, len(b))
	}
	m := SessionOpenAck{
		SessionID:              binary.LittleEndian.Uint32(b[0:]),
		AcceptedProfileID:      ProfileID(binary.LittleEndian.Uint16(b[4:])),
		AcceptedPriorityClass:  PriorityClass(b[6]),
		Status:                 SessionStatus(b[7]),
		SchemaID:               binary.LittleEndian.Uint32(b[8:]),
		SchemaVersion:          binary.LittleEndian.Uint32(b[12:]),
		GrantedOperationCredit: binary.LittleEndian.Uint16(b[16:]),
		MaxInFlightOperations:  binary.LittleEndian.Uint16(b[18:]),
		LeaseTTLMS:             binary.LittleEndian.Uint32(b[20:]),
		ResumeWindowMS:         binary.LittleEndian.Uint32(b[24:]),
		ResumeTokenBytes:       binary.LittleEndian.Uint32(b[28:]),
		SessionExtensionBytes:  binary.LittleEndian.Uint32(b[32:]),
		ServerSessionTag:       binary.LittleEndian.Uint64(b[36:]),
		RouteScopeID:           binary.LittleEndian.Uint32(b[44:]),
		SessionErrorCode:       ErrorCode(binary.LittleEndian.Uint32(b[48:])),
		Flags:                  SessionAckFlags(binary.LittleEndian.Uint32(b[52:])),
	}
	if err := m.validate(); err != nil {
		return SessionOpenAck{}, 0, err
	}
	return m, sessionOpenAckLen, nil
}
