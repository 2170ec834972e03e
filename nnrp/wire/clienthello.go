package wire

import "encoding/binary"

const clientHelloLen = 64

// ClientHello is the metadata of CLIENT_HELLO (type 0x01, 64 bytes, C§3.2),
// the first packet of a connection (header session_id 0). The body is
// auth_block ‖ control_extension_block; see SplitBody and
// CheckControlExtensions. Capability bitmaps are described in C§3.7.
type ClientHello struct {
	MinVersionMajor            uint8       `json:"min_version_major"`
	MaxVersionMajor            uint8       `json:"max_version_major"`
	SupportedWireFormatBitmap  uint16      `json:"supported_wire_format_bitmap"` // bit n = wire_format n
	SupportedProfileBitmap     uint32      `json:"supported_profile_bitmap"`     // bit ProfileID-1 (ProfileID.Bit)
	SupportedPayloadKindBitmap PayloadKind `json:"supported_payload_kind_bitmap"`
	SupportedCodecBitmap       uint32      `json:"supported_codec_bitmap"`
	SupportedCompressionBitmap uint32      `json:"supported_compression_bitmap"`
	SupportedDtypeBitmap       uint32      `json:"supported_dtype_bitmap"`
	SupportedLayoutBitmap      uint32      `json:"supported_layout_bitmap"`
	CacheDigestBitmap          uint16      `json:"cache_digest_bitmap"`
	CacheObjectBitmap          uint16      `json:"cache_object_bitmap"` // bit CacheObjectKind-1
	CacheNamespaceCount        uint16      `json:"cache_namespace_count"`
	MaxLaneCount               uint16      `json:"max_lane_count"`
	MaxCacheEntries            uint32      `json:"max_cache_entries"`
	MaxCacheBytes              uint32      `json:"max_cache_bytes"`
	TargetCadenceX100          uint16      `json:"target_cadence_x100"` // frames per second × 100
	LatencyBudgetMS            uint16      `json:"latency_budget_ms"`
	QualityTier                uint16      `json:"quality_tier"`
	DegradePolicy              uint16      `json:"degrade_policy"`       // 0 server_default … 3 allow_aggressive_fallback; not validated
	RequestedSessionID         uint32      `json:"requested_session_id"` // legacy, ignored by preview3+ servers
	AuthBytes                  uint32      `json:"auth_bytes"`
	ControlExtensionBytes      uint32      `json:"control_extension_bytes"`
}

// Type returns TypeClientHello.
func (*ClientHello) Type() MessageType { return TypeClientHello }

// Len returns 64.
func (*ClientHello) Len() int { return clientHelloLen }

// ExpectedBodyLen returns AuthBytes + ControlExtensionBytes.
func (m *ClientHello) ExpectedBodyLen() (uint64, bool) {
	return uint64(m.AuthBytes) + uint64(m.ControlExtensionBytes), true
}

// validate applies the receiver rules of C§3.2. A version window without 1
// or a wire bitmap without bit 0 is unsupported_version (C§3.4); the other
// violations are malformed_body.
func (m *ClientHello) validate() error {
	const t = TypeClientHello
	switch {
	case m.MinVersionMajor > m.MaxVersionMajor:
		return errInvalid(t, "min_version_major", "window %d..%d is empty", m.MinVersionMajor, m.MaxVersionMajor)
	case m.MinVersionMajor > VersionMajor || m.MaxVersionMajor < VersionMajor:
		return errCode(t, CodeUnsupportedVersion, "max_version_major",
			"window %d..%d excludes version %d", m.MinVersionMajor, m.MaxVersionMajor, VersionMajor)
	case m.SupportedWireFormatBitmap&(1<<WireFormat) == 0:
		return errCode(t, CodeUnsupportedVersion, "supported_wire_format_bitmap",
			"wire format %d not offered (bitmap 0x%x)", WireFormat, m.SupportedWireFormatBitmap)
	}
	return firstErr(
		checkNonZero(t, "supported_profile_bitmap", m.SupportedProfileBitmap),
		checkNonZero(t, "supported_payload_kind_bitmap", m.SupportedPayloadKindBitmap),
	)
}

// CheckHeader enforces the connection scope of CLIENT_HELLO (C§2.3).
func (m *ClientHello) CheckHeader(h *Header) error { return ctlConnectionScope(TypeClientHello, h) }

// SplitBody splits a CLIENT_HELLO body into the opaque auth block and the
// control-extension block (C§3.6). The results alias body. It fails with
// CodeMalformedBody unless len(body) equals ExpectedBodyLen; the extension
// block itself is checked by CheckControlExtensions.
func (m *ClientHello) SplitBody(body []byte) (auth, ext []byte, err error) {
	if want, _ := m.ExpectedBodyLen(); uint64(len(body)) != want {
		return nil, nil, errInvalid(TypeClientHello, "body_len", "got %d, metadata implies %d", len(body), want)
	}
	n := int(m.AuthBytes)
	return body[:n:n], body[n:], nil
}

// CheckAck applies the client-side acceptance rules of C§3.3 to the server's
// answer a: the selected version lies in the hello's window and the selected
// wire format was offered (else unsupported_version), and every accepted
// bitmap, cache_digest_bitmap and cache_object_bitmap is a subset of what the
// hello offered (else unsupported_capability: the server granted something
// the client cannot use). Parse a first; its own rules are not repeated.
func (m *ClientHello) CheckAck(a *ServerHelloAck) error {
	const t = TypeServerHelloAck
	if a.SelectedVersionMajor < m.MinVersionMajor || a.SelectedVersionMajor > m.MaxVersionMajor {
		return errCode(t, CodeUnsupportedVersion, "selected_version_major", "%d outside the offered window %d..%d",
			a.SelectedVersionMajor, m.MinVersionMajor, m.MaxVersionMajor)
	}
	if a.SelectedWireFormat >= 16 || m.SupportedWireFormatBitmap&(1<<a.SelectedWireFormat) == 0 {
		return errCode(t, CodeUnsupportedVersion, "selected_wire_format", "%d not offered (bitmap 0x%x)",
			a.SelectedWireFormat, m.SupportedWireFormatBitmap)
	}
	for _, c := range [...]struct {
		field           string
		accepted, offer uint32
	}{
		{"accepted_profile_bitmap", a.AcceptedProfileBitmap, m.SupportedProfileBitmap},
		{"accepted_payload_kind_bitmap", uint32(a.AcceptedPayloadKindBitmap), uint32(m.SupportedPayloadKindBitmap)},
		{"accepted_codec_bitmap", a.AcceptedCodecBitmap, m.SupportedCodecBitmap},
		{"accepted_compression_bitmap", a.AcceptedCompressionBitmap, m.SupportedCompressionBitmap},
		{"accepted_dtype_bitmap", a.AcceptedDtypeBitmap, m.SupportedDtypeBitmap},
		{"accepted_layout_bitmap", a.AcceptedLayoutBitmap, m.SupportedLayoutBitmap},
		{"cache_digest_bitmap", a.CacheDigestBitmap, uint32(m.CacheDigestBitmap)},
		{"cache_object_bitmap", a.CacheObjectBitmap, uint32(m.CacheObjectBitmap)},
	} {
		if extra := c.accepted &^ c.offer; extra != 0 {
			return errCode(t, CodeUnsupportedCapability, c.field, "bits 0x%x were not offered (offered 0x%x)", extra, c.offer)
		}
	}
	return nil
}

// Append validates m and appends its 64 bytes to b.
func (m *ClientHello) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *ClientHello) put(b []byte) []byte {
	b = append(b, m.MinVersionMajor, m.MaxVersionMajor)
	b = binary.LittleEndian.AppendUint16(b, m.SupportedWireFormatBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.SupportedProfileBitmap)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.SupportedPayloadKindBitmap))
	b = binary.LittleEndian.AppendUint32(b, m.SupportedCodecBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.SupportedCompressionBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.SupportedDtypeBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.SupportedLayoutBitmap)
	b = binary.LittleEndian.AppendUint16(b, m.CacheDigestBitmap)
	b = binary.LittleEndian.AppendUint16(b, m.CacheObjectBitmap)
	b = binary.LittleEndian.AppendUint16(b, m.CacheNamespaceCount)
	b = binary.LittleEndian.AppendUint16(b, m.MaxLaneCount)
	b = binary.LittleEndian.AppendUint32(b, m.MaxCacheEntries)
	b = binary.LittleEndian.AppendUint32(b, m.MaxCacheBytes)
	b = binary.LittleEndian.AppendUint16(b, m.TargetCadenceX100)
	b = binary.LittleEndian.AppendUint16(b, m.LatencyBudgetMS)
	b = binary.LittleEndian.AppendUint16(b, m.QualityTier)
	b = binary.LittleEndian.AppendUint16(b, m.DegradePolicy)
	b = binary.LittleEndian.AppendUint32(b, m.RequestedSessionID)
	b = binary.LittleEndian.AppendUint32(b, m.AuthBytes)
	b = binary.LittleEndian.AppendUint32(b, m.ControlExtensionBytes)
	return b
}

// ParseClientHello decodes and validates CLIENT_HELLO metadata from the start
// of b.
func ParseClientHello(b []byte) (ClientHello, int, error) {
	if len(b) < clientHelloLen {
		return ClientHello{}, 0, errShort(TypeClientHello, "metadata", clientHelloLen, len(b))
	}
	m := ClientHello{
		MinVersionMajor:            b[0],
		MaxVersionMajor:            b[1],
		SupportedWireFormatBitmap:  binary.LittleEndian.Uint16(b[2:]),
		SupportedProfileBitmap:     binary.LittleEndian.Uint32(b[4:]),
		SupportedPayloadKindBitmap: PayloadKind(binary.LittleEndian.Uint32(b[8:])),
		SupportedCodecBitmap:       binary.LittleEndian.Uint32(b[12:]),
		SupportedCompressionBitmap: binary.LittleEndian.Uint32(b[16:]),
		SupportedDtypeBitmap:       binary.LittleEndian.Uint32(b[20:]),
		SupportedLayoutBitmap:      binary.LittleEndian.Uint32(b[24:]),
		CacheDigestBitmap:          binary.LittleEndian.Uint16(b[28:]),
		CacheObjectBitmap:          binary.LittleEndian.Uint16(b[30:]),
		CacheNamespaceCount:        binary.LittleEndian.Uint16(b[32:]),
		MaxLaneCount:               binary.LittleEndian.Uint16(b[34:]),
		MaxCacheEntries:            binary.LittleEndian.Uint32(b[36:]),
		MaxCacheBytes:              binary.LittleEndian.Uint32(b[40:]),
		TargetCadenceX100:          binary.LittleEndian.Uint16(b[44:]),
		LatencyBudgetMS:            binary.LittleEndian.Uint16(b[46:]),
		QualityTier:                binary.LittleEndian.Uint16(b[48:]),
		DegradePolicy:              binary.LittleEndian.Uint16(b[50:]),
		RequestedSessionID:         binary.LittleEndian.Uint32(b[52:]),
		AuthBytes:                  binary.LittleEndian.Uint32(b[56:]),
		ControlExtensionBytes:      binary.LittleEndian.Uint32(b[60:]),
	}
	if err := m.validate(); err != nil {
		return ClientHello{}, 0, err
	}
	return m, clientHelloLen, nil
}
