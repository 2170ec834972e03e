package wire

import "encoding/binary"

const (
	sessionMigrateLen    = 24
	sessionMigrateAckLen = 24
)

// SessionMigrate is the metadata of SESSION_MIGRATE (type 0x1b, 24 bytes,
// C§4.8; optional), session-scoped on the existing connection. No body.
type SessionMigrate struct {
	OldTransportID    TransportID `json:"old_transport_id"` // non-zero
	NewTransportID    TransportID `json:"new_transport_id"` // non-zero, differs from the old one
	LastResultFrameID uint64      `json:"last_result_frame_id"`
	ClientMigrateTSUS uint64      `json:"client_migrate_ts_us"`
}

// Type returns TypeSessionMigrate.
func (*SessionMigrate) Type() MessageType { return TypeSessionMigrate }

// Len returns 24.
func (*SessionMigrate) Len() int { return sessionMigrateLen }

// ExpectedBodyLen returns 0: SESSION_MIGRATE has no body.
func (*SessionMigrate) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *SessionMigrate) validate() error {
	const t = TypeSessionMigrate
	if err := firstErr(
		checkNonZero(t, "old_transport_id", m.OldTransportID),
		checkNonZero(t, "new_transport_id", m.NewTransportID),
	); err != nil {
		return err
	}
	if m.OldTransportID == m.NewTransportID {
		return errInvalid(t, "new_transport_id", "equals old_transport_id %d", m.OldTransportID)
	}
	return nil
}

// CheckHeader enforces the scope of SESSION_MIGRATE (C§4.8): a non-zero
// header session_id and frame_id 0.
func (m *SessionMigrate) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeSessionMigrate, h, true)
}

// Append validates m and appends its 24 bytes to b.
func (m *SessionMigrate) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionMigrate) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(m.OldTransportID))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.NewTransportID))
	b = binary.LittleEndian.AppendUint64(b, m.LastResultFrameID)
	b = binary.LittleEndian.AppendUint64(b, m.ClientMigrateTSUS)
	return b
}

// ParseSessionMigrate decodes and validates SESSION_MIGRATE metadata from the
// start of b.
func ParseSessionMigrate(b []byte) (SessionMigrate, int, error) {
	if len(b) < sessionMigrateLen {
		return SessionMigrate{}, 0, errShort(TypeSessionMigrate, "metadata", sessionMigrateLen, len(b))
	}
	m := SessionMigrate{
		OldTransportID:    TransportID(binary.LittleEndian.Uint32(b[0:])),
		NewTransportID:    TransportID(binary.LittleEndian.Uint32(b[4:])),
		LastResultFrameID: binary.LittleEndian.Uint64(b[8:]),
		ClientMigrateTSUS: binary.LittleEndian.Uint64(b[16:]),
	}
	if err := m.validate(); err != nil {
		return SessionMigrate{}, 0, err
	}
	return m, sessionMigrateLen, nil
}

// SessionMigrateAck is the metadata of SESSION_MIGRATE_ACK (type 0x1c, 24
// bytes, C§4.8). Note the unaligned u64 at offset 4. No body.
type SessionMigrateAck struct {
	AcceptCode        uint32 `json:"accept_code"`          // 0 accepted; any other value is a rejection (no registry)
	ResumeFromFrameID uint64 `json:"resume_from_frame_id"` // frames below it are not replayed
	GraceWindowMS     uint32 `json:"grace_window_ms"`      // old-path grace period
	ServerMigrateTSUS uint64 `json:"server_migrate_ts_us"`
}

// Type returns TypeSessionMigrateAck.
func (*SessionMigrateAck) Type() MessageType { return TypeSessionMigrateAck }

// Len returns 24.
func (*SessionMigrateAck) Len() int { return sessionMigrateAckLen }

// ExpectedBodyLen returns 0: SESSION_MIGRATE_ACK has no body.
func (*SessionMigrateAck) ExpectedBodyLen() (uint64, bool) { return 0, true }

// CheckForRequest checks m against the SESSION_MIGRATE it answers (C§4.8):
// an accepted migration resumes at or after the client's last result
// (resume_from_frame_id >= last_result_frame_id). A rejection carries no
// usable cursor and is not checked.
func (m *SessionMigrateAck) CheckForRequest(req *SessionMigrate) error {
	if m.AcceptCode == 0 && m.ResumeFromFrameID < req.LastResultFrameID {
		return errInvalid(TypeSessionMigrateAck, "resume_from_frame_id", "%d is before last_result_frame_id %d",
			m.ResumeFromFrameID, req.LastResultFrameID)
	}
	return nil
}

// CheckHeader enforces the scope of SESSION_MIGRATE_ACK (C§4.8): a non-zero
// header session_id and frame_id 0.
func (m *SessionMigrateAck) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeSessionMigrateAck, h, true)
}

// Append appends the 24 bytes of m to b. It never fails: every field takes
// any value on its own (see CheckForRequest for the cross-message rule).
func (m *SessionMigrateAck) Append(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, m.AcceptCode)
	b = binary.LittleEndian.AppendUint64(b, m.ResumeFromFrameID)
	b = binary.LittleEndian.AppendUint32(b, m.GraceWindowMS)
	b = binary.LittleEndian.AppendUint64(b, m.ServerMigrateTSUS)
	return b, nil
}

// ParseSessionMigrateAck decodes SESSION_MIGRATE_ACK metadata from the start
// of b.
func ParseSessionMigrateAck(b []byte) (SessionMigrateAck, int, error) {
	if len(b) < sessionMigrateAckLen {
		return SessionMigrateAck{}, 0, errShort(TypeSessionMigrateAck, "metadata", sessionMigrateAckLen, len(b))
	}
	m := SessionMigrateAck{
		AcceptCode:        binary.LittleEndian.Uint32(b[0:]),
		ResumeFromFrameID: binary.LittleEndian.Uint64(b[4:]),
		GraceWindowMS:     binary.LittleEndian.Uint32(b[12:]),
		ServerMigrateTSUS: binary.LittleEndian.Uint64(b[16:]),
	}
	return m, sessionMigrateAckLen, nil
}
