package wire

import "encoding/binary"

// SessionFlags is SESSION_OPEN.session_flags (C§4.1).
type SessionFlags uint8

// Session request flags.
const (
	SessionAllowResume            SessionFlags = 0x01
	SessionAllowBackgroundResults SessionFlags = 0x02
	SessionAllowCacheLeases       SessionFlags = 0x04
	SessionAllowSchemaOverride    SessionFlags = 0x08

	knownSessionFlags SessionFlags = 0x0F
)

const sessionOpenLen = 48

// SessionOpen is the metadata of SESSION_OPEN (type 0x07, 48 bytes, C§4.2),
// sent with header session_id 0. The body is resume_token_block ‖ auth_block
// ‖ session_extension_block with the three lengths below; see SplitBody.
type SessionOpen struct {
	RequestedSessionID    uint32        `json:"requested_session_id"` // 0 = server assigns; else wanted or resumed id
	ProfileID             ProfileID     `json:"profile_id"`
	PriorityClass         PriorityClass `json:"priority_class"`
	Flags                 SessionFlags  `json:"session_flags"`
	SchemaID              uint32        `json:"schema_id"` // 0 = none
	SchemaVersion         uint32        `json:"schema_version"`
	DefaultDeadlineMS     uint32        `json:"default_deadline_ms"`
	MaxInFlightOperations uint16        `json:"max_in_flight_operations"`
	LeaseTTLHintMS        uint32        `json:"lease_ttl_hint_ms"` // 0 = unspecified
	ResumeTokenBytes      uint32        `json:"resume_token_bytes"`
	AuthBytes             uint32        `json:"auth_bytes"`
	SessionExtensionBytes uint32        `json:"session_extension_bytes"`
	ClientSessionTag      uint64        `json:"client_session_tag"`
}

// Type returns TypeSessionOpen.
func (*SessionOpen) Type() MessageType { return TypeSessionOpen }

// Len returns 48.
func (*SessionOpen) Len() int { return sessionOpenLen }

// ExpectedBodyLen returns ResumeTokenBytes + AuthBytes +
// SessionExtensionBytes. (The Rust server only accepts a body of exactly
// ResumeTokenBytes; this package accepts the three blocks in field order.)
func (m *SessionOpen) ExpectedBodyLen() (uint64, bool) {
	return uint64(m.ResumeTokenBytes) + uint64(m.AuthBytes) + uint64(m.SessionExtensionBytes), true
}

func (m *SessionOpen) validate() error {
	return firstErr(
		checkMax(TypeSessionOpen, "priority_class", m.PriorityClass, PriorityBackground),
		checkMask(TypeSessionOpen, "session_flags", m.Flags, knownSessionFlags),
	)
}

// CheckResumeShape enforces the resume rule of C§4.2: a request carrying a
// resume token must set allow_resume and name the session to resume. It is
// not part of ParseSessionOpen because a server answers a violation with a
// rejected SESSION_OPEN_ACK (resume_rejected) and keeps the connection,
// which needs the decoded request; the error carries CodeMalformedBody.
func (m *SessionOpen) CheckResumeShape() error {
	if m.ResumeTokenBytes == 0 {
		return nil
	}
	if m.Flags&SessionAllowResume == 0 {
		return errInvalid(TypeSessionOpen, "session_flags", "resume token without allow_resume")
	}
	if m.RequestedSessionID == 0 {
		return errInvalid(TypeSessionOpen, "requested_session_id", "resume token without a session to resume")
	}
	return nil
}

// CheckHeader enforces the connection scope of SESSION_OPEN (C§2.3):
// header session_id and frame_id are 0.
func (m *SessionOpen) CheckHeader(h *Header) error { return ctlConnectionScope(TypeSessionOpen, h) }

// SplitBody splits a SESSION_OPEN body into its resume token, auth block and
// session extension block. The results alias body. It fails with
// CodeMalformedBody unless len(body) equals ExpectedBodyLen.
func (m *SessionOpen) SplitBody(body []byte) (token, auth, ext []byte, err error) {
	if want, _ := m.ExpectedBodyLen(); uint64(len(body)) != want {
		return nil, nil, nil, errInvalid(TypeSessionOpen, "body_len", "got %d, metadata implies %d", len(body), want)
	}
	t, a := int(m.ResumeTokenBytes), int(m.ResumeTokenBytes)+int(m.AuthBytes)
	return body[:t:t], body[t:a:a], body[a:], nil
}

// Append validates m and appends its 48 bytes to b.
func (m *SessionOpen) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionOpen) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, m.RequestedSessionID)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.ProfileID))
	b = append(b, byte(m.PriorityClass), byte(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.SchemaID)
	b = binary.LittleEndian.AppendUint32(b, m.SchemaVersion)
	b = binary.LittleEndian.AppendUint32(b, m.DefaultDeadlineMS)
	b = binary.LittleEndian.AppendUint16(b, m.MaxInFlightOperations)
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, m.LeaseTTLHintMS)
	b = binary.LittleEndian.AppendUint32(b, m.ResumeTokenBytes)
	b = binary.LittleEndian.AppendUint32(b, m.AuthBytes)
	b = binary.LittleEndian.AppendUint32(b, m.SessionExtensionBytes)
	b = binary.LittleEndian.AppendUint64(b, m.ClientSessionTag)
	return b
}

// ParseSessionOpen decodes and validates SESSION_OPEN metadata from the start
// of b. The resume shape is checked separately (CheckResumeShape).
func ParseSessionOpen(b []byte) (SessionOpen, int, error) {
	if len(b) < sessionOpenLen {
		return SessionOpen{}, 0, errShort(TypeSessionOpen, "metadata", sessionOpenLen, len(b))
	}
	m := SessionOpen{
		RequestedSessionID:    binary.LittleEndian.Uint32(b[0:]),
		ProfileID:             ProfileID(binary.LittleEndian.Uint16(b[4:])),
		PriorityClass:         PriorityClass(b[6]),
		Flags:                 SessionFlags(b[7]),
		SchemaID:              binary.LittleEndian.Uint32(b[8:]),
		SchemaVersion:         binary.LittleEndian.Uint32(b[12:]),
		DefaultDeadlineMS:     binary.LittleEndian.Uint32(b[16:]),
		MaxInFlightOperations: binary.LittleEndian.Uint16(b[20:]),
		LeaseTTLHintMS:        binary.LittleEndian.Uint32(b[24:]),
		ResumeTokenBytes:      binary.LittleEndian.Uint32(b[28:]),
		AuthBytes:             binary.LittleEndian.Uint32(b[32:]),
		SessionExtensionBytes: binary.LittleEndian.Uint32(b[36:]),
		ClientSessionTag:      binary.LittleEndian.Uint64(b[40:]),
	}
	if err := checkZero(TypeSessionOpen, "reserved", binary.LittleEndian.Uint16(b[22:])); err != nil {
		return SessionOpen{}, 0, err
	}
	if err := m.validate(); err != nil {
		return SessionOpen{}, 0, err
	}
	return m, sessionOpenLen, nil
}

// Helpers shared by the connection and session control codecs.

// ctlConnectionScope enforces the connection scope of C§2.3: header
// session_id 0 (else invalid_state: the packet is on the wrong path) and
// frame_id 0 (malformed_body).
func ctlConnectionScope(t MessageType, h *Header) error {
	if h.SessionID != 0 {
		return errCode(t, CodeInvalidState, "header.session_id", "%s is connection-scoped, got session %d", t, h.SessionID)
	}
	return ctlNoFrame(t, h)
}

// ctlSessionScope enforces the session scope of C§2.3: a non-zero header
// session_id (else invalid_state) and, if noFrame, frame_id 0.
func ctlSessionScope(t MessageType, h *Header, noFrame bool) error {
	if h.SessionID == 0 {
		return errCode(t, CodeInvalidState, "header.session_id", "%s is session-scoped, got session 0", t)
	}
	if noFrame {
		return ctlNoFrame(t, h)
	}
	return nil
}

// ctlNoFrame rejects a non-zero header frame_id on a control message.
func ctlNoFrame(t MessageType, h *Header) error {
	if h.FrameID != 0 {
		return errInvalid(t, "header.frame_id", "must be 0 for %s, got %d", t, h.FrameID)
	}
	return nil
}

// ctlEnumName returns names[v], or kind(v) for a value without a name.
func ctlEnumName(names []string, v uint64, kind string) string {
	if v < uint64(len(names)) {
		return names[v]
	}
	return kind + "(" + itoa(v) + ")"
}
