package wire

import "encoding/binary"

// ServerFlags is SERVER_HELLO_ACK.server_flags (C§3.3). Rust HEAD knows only
// bit 0; the preview1 bits 1 and 2 are rejected.
type ServerFlags uint32

// Server flag bits.
const (
	ServerCacheEnabled ServerFlags = 0x1

	knownServerFlags ServerFlags = 0x1
)

const serverHelloAckLen = 80

// ServerHelloAck is the metadata of SERVER_HELLO_ACK (type 0x02, 80 bytes,
// C§3.3), the server's answer to CLIENT_HELLO (header session_id 0). The body
// is the control-extension block (C§3.6). ClientHello.CheckAck checks it
// against the hello it answers.
type ServerHelloAck struct {
	SelectedVersionMajor      uint8       `json:"selected_version_major"`
	SelectedWireFormat        uint8       `json:"selected_wire_format"`
	AuthStatus                uint8       `json:"auth_status"` // 0 = accepted / no auth; no other value assigned
	SessionID                 uint32      `json:"session_id"`  // 0 from preview3 on (sessions come from SESSION_OPEN)
	AcceptedProfileBitmap     uint32      `json:"accepted_profile_bitmap"`
	AcceptedPayloadKindBitmap PayloadKind `json:"accepted_payload_kind_bitmap"`
	AcceptedCodecBitmap       uint32      `json:"accepted_codec_bitmap"`
	AcceptedCompressionBitmap uint32      `json:"accepted_compression_bitmap"`
	AcceptedDtypeBitmap       uint32      `json:"accepted_dtype_bitmap"`
	AcceptedLayoutBitmap      uint32      `json:"accepted_layout_bitmap"`
	CacheDigestBitmap         uint32      `json:"cache_digest_bitmap"` // u32 here, u16 in the hello
	CacheObjectBitmap         uint32      `json:"cache_object_bitmap"` // u32 here, u16 in the hello
	MaxCacheEntries           uint32      `json:"max_cache_entries"`
	MaxCacheBytes             uint32      `json:"max_cache_bytes"`
	MaxLaneCount              uint16      `json:"max_lane_count"`
	MaxConcurrentFrames       uint16      `json:"max_concurrent_frames"`
	TargetCadenceX100         uint16      `json:"target_cadence_x100"`
	LatencyBudgetMS           uint16      `json:"latency_budget_ms"`
	QualityTier               uint16      `json:"quality_tier"`
	DegradePolicy             uint16      `json:"degrade_policy"`
	MaxBodyBytes              uint32      `json:"max_body_bytes"` // largest packet the server accepts
	TokenTTLMS                uint32      `json:"token_ttl_ms"`
	RetryAfterMS              uint32      `json:"retry_after_ms"` // 0 = none
	ControlExtensionBytes     uint32      `json:"control_extension_bytes"`
	Flags                     ServerFlags `json:"server_flags"`
}

// Type returns TypeServerHelloAck.
func (*ServerHelloAck) Type() MessageType { return TypeServerHelloAck }

// Len returns 80.
func (*ServerHelloAck) Len() int { return serverHelloAckLen }

// ExpectedBodyLen returns ControlExtensionBytes.
func (m *ServerHelloAck) ExpectedBodyLen() (uint64, bool) {
	return uint64(m.ControlExtensionBytes), true
}

func (m *ServerHelloAck) validate() error {
	return checkMask(TypeServerHelloAck, "server_flags", m.Flags, knownServerFlags)
}

// CheckHeader enforces the connection scope of SERVER_HELLO_ACK (C§2.3).
func (m *ServerHelloAck) CheckHeader(h *Header) error {
	return ctlConnectionScope(TypeServerHelloAck, h)
}

// Append validates m and appends its 80 bytes to b.
func (m *ServerHelloAck) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *ServerHelloAck) put(b []byte) []byte {
	b = append(b, m.SelectedVersionMajor, m.SelectedWireFormat, m.AuthStatus, 0) // byte 3 reserved
	b = binary.LittleEndian.AppendUint32(b, m.SessionID)
	b = binary.LittleEndian.AppendUint32(b, m.AcceptedProfileBitmap)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.AcceptedPayloadKindBitmap))
	b = binary.LittleEndian.AppendUint32(b, m.AcceptedCodecBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.AcceptedCompressionBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.AcceptedDtypeBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.AcceptedLayoutBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.CacheDigestBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.CacheObjectBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.MaxCacheEntries)
	b = binary.LittleEndian.AppendUint32(b, m.MaxCacheBytes)
	b = binary.LittleEndian.AppendUint16(b, m.MaxLaneCount)
	b = binary.LittleEndian.AppendUint16(b, m.MaxConcurrentFrames)
	b = binary.LittleEndian.AppendUint16(b, m.TargetCadenceX100)
	b = binary.LittleEndian.AppendUint16(b, m.LatencyBudgetMS)
	b = binary.LittleEndian.AppendUint16(b, m.QualityTier)
	b = binary.LittleEndian.AppendUint16(b, m.DegradePolicy)
	b = binary.LittleEndian.AppendUint32(b, m.MaxBodyBytes)
	b = binary.LittleEndian.AppendUint32(b, m.TokenTTLMS)
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint32(b, m.ControlExtensionBytes)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return b
}

// ParseServerHelloAck decodes and validates SERVER_HELLO_ACK metadata from
// the start of b.
func ParseServerHelloAck(b []byte) (ServerHelloAck, int, error) {
	if len(b) < serverHelloAckLen {
		return ServerHelloAck{}, 0, errShort(TypeServerHelloAck, "metadata", serverHelloAckLen, len(b))
	}
	m := ServerHelloAck{
		SelectedVersionMajor:      b[0],
		SelectedWireFormat:        b[1],
		AuthStatus:                b[2],
		SessionID:                 binary.LittleEndian.Uint32(b[4:]),
		AcceptedProfileBitmap:     binary.LittleEndian.Uint32(b[8:]),
		AcceptedPayloadKindBitmap: PayloadKind(binary.LittleEndian.Uint32(b[12:])),
		AcceptedCodecBitmap:       binary.LittleEndian.Uint32(b[16:]),
		AcceptedCompressionBitmap: binary.LittleEndian.Uint32(b[20:]),
		AcceptedDtypeBitmap:       binary.LittleEndian.Uint32(b[24:]),
		AcceptedLayoutBitmap:      binary.LittleEndian.Uint32(b[28:]),
		CacheDigestBitmap:         binary.LittleEndian.Uint32(b[32:]),
		CacheObjectBitmap:         binary.LittleEndian.Uint32(b[36:]),
		MaxCacheEntries:           binary.LittleEndian.Uint32(b[40:]),
		MaxCacheBytes:             binary.LittleEndian.Uint32(b[44:]),
		MaxLaneCount:              binary.LittleEndian.Uint16(b[48:]),
		MaxConcurrentFrames:       binary.LittleEndian.Uint16(b[50:]),
		TargetCadenceX100:         binary.LittleEndian.Uint16(b[52:]),
		LatencyBudgetMS:           binary.LittleEndian.Uint16(b[54:]),
		QualityTier:               binary.LittleEndian.Uint16(b[56:]),
		DegradePolicy:             binary.LittleEndian.Uint16(b[58:]),
		MaxBodyBytes:              binary.LittleEndian.Uint32(b[60:]),
		TokenTTLMS:                binary.LittleEndian.Uint32(b[64:]),
		RetryAfterMS:              binary.LittleEndian.Uint32(b[68:]),
		ControlExtensionBytes:     binary.LittleEndian.Uint32(b[72:]),
		Flags:                     ServerFlags(binary.LittleEndian.Uint32(b[76:])),
	}
	if err := checkZero(TypeServerHelloAck, "reserved", b[3]); err != nil {
		return ServerHelloAck{}, 0, err
	}
	if err := m.validate(); err != nil {
		return ServerHelloAck{}, 0, err
	}
	return m, serverHelloAckLen, nil
}
