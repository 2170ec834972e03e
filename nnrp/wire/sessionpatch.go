package wire

import "encoding/binary"

// PatchMask is SESSION_PATCH.patch_mask and SESSION_PATCH_ACK's
// applied/rejected masks (C§4.7): which fields the patch changes. Fields
// whose bit is clear are ignored.
type PatchMask uint32

// Patch mask bits.
const (
	PatchTargetCadence        PatchMask = 0x01
	PatchQualityTier          PatchMask = 0x02
	PatchDegradePolicy        PatchMask = 0x04
	PatchActiveLaneMask       PatchMask = 0x08
	PatchPreferredCodec       PatchMask = 0x10
	PatchPreferredCompression PatchMask = 0x20
	PatchProfilePatch         PatchMask = 0x40

	knownPatchMask PatchMask = 0x7F
)

// PatchAckStatus is SESSION_PATCH_ACK.ack_status (C§4.7).
type PatchAckStatus uint16

// Patch ack statuses.
const (
	PatchAccepted         PatchAckStatus = 0
	PatchPartiallyApplied PatchAckStatus = 1
	PatchRejected         PatchAckStatus = 2
)

var patchAckStatusNames = []string{"accepted", "partially_applied", "rejected"}

func (s PatchAckStatus) String() string {
	return ctlEnumName(patchAckStatusNames, uint64(s), "ack_status")
}

// PatchRejectReason is SESSION_PATCH_ACK.reject_reason, with the Rust/JS
// numbering (C§4.7; the preview1 design's list differs).
type PatchRejectReason uint16

// Patch reject reasons.
const (
	PatchRejectNone                PatchRejectReason = 0
	PatchRejectUnsupportedField    PatchRejectReason = 1
	PatchRejectInvalidRange        PatchRejectReason = 2
	PatchRejectUnsupportedStrategy PatchRejectReason = 3
	PatchRejectInvalidLaneMask     PatchRejectReason = 4
	PatchRejectRateLimited         PatchRejectReason = 5
)

var patchRejectReasonNames = []string{"none", "unsupported_field", "invalid_range",
	"unsupported_strategy", "invalid_lane_mask", "rate_limited"}

func (r PatchRejectReason) String() string {
	return ctlEnumName(patchRejectReasonNames, uint64(r), "reject_reason")
}

const (
	sessionPatchLen       = 36
	sessionPatchAckLen    = 48
	tensorProfilePatchLen = 16
)

// SessionPatch is the metadata of SESSION_PATCH (type 0x03, 36 bytes, C§4.7),
// session-scoped. The body is the profile patch block of ProfilePatchBytes
// (for the tensor profile a TensorProfilePatch).
type SessionPatch struct {
	ProfileID                  ProfileID `json:"profile_id"` // 0 = current active profile
	Mask                       PatchMask `json:"patch_mask"`
	TargetCadenceX100          uint32    `json:"target_cadence_x100"`
	QualityTier                uint16    `json:"quality_tier"`
	DegradePolicy              uint16    `json:"degrade_policy"`
	ActiveLaneMask             uint64    `json:"active_lane_mask"`
	PreferredCodecBitmap       uint32    `json:"preferred_codec_bitmap"`
	PreferredCompressionBitmap uint32    `json:"preferred_compression_bitmap"`
	ProfilePatchBytes          uint32    `json:"profile_patch_bytes"`
}

// Type returns TypeSessionPatch.
func (*SessionPatch) Type() MessageType { return TypeSessionPatch }

// Len returns 36.
func (*SessionPatch) Len() int { return sessionPatchLen }

// ExpectedBodyLen returns ProfilePatchBytes.
func (m *SessionPatch) ExpectedBodyLen() (uint64, bool) { return uint64(m.ProfilePatchBytes), true }

func (m *SessionPatch) validate() error {
	return checkMask(TypeSessionPatch, "patch_mask", m.Mask, knownPatchMask)
}

// CheckHeader enforces the scope of SESSION_PATCH (C§4.7): a non-zero
// header session_id and frame_id 0.
func (m *SessionPatch) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeSessionPatch, h, true)
}

// Append validates m and appends its 36 bytes to b.
func (m *SessionPatch) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionPatch) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(m.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Mask))
	b = binary.LittleEndian.AppendUint32(b, m.TargetCadenceX100)
	b = binary.LittleEndian.AppendUint16(b, m.QualityTier)
	b = binary.LittleEndian.AppendUint16(b, m.DegradePolicy)
	b = binary.LittleEndian.AppendUint64(b, m.ActiveLaneMask)
	b = binary.LittleEndian.AppendUint32(b, m.PreferredCodecBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.PreferredCompressionBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.ProfilePatchBytes)
	return b
}

// ParseSessionPatch decodes and validates SESSION_PATCH metadata from the
// start of b.
func ParseSessionPatch(b []byte) (SessionPatch, int, error) {
	if len(b) < sessionPatchLen {
		return SessionPatch{}, 0, errShort(TypeSessionPatch, "metadata", sessionPatchLen, len(b))
	}
	m := SessionPatch{
		ProfileID:                  ProfileID(binary.LittleEndian.Uint16(b[0:])),
		Mask:                       PatchMask(binary.LittleEndian.Uint32(b[4:])),
		TargetCadenceX100:          binary.LittleEndian.Uint32(b[8:]),
		QualityTier:                binary.LittleEndian.Uint16(b[12:]),
		DegradePolicy:              binary.LittleEndian.Uint16(b[14:]),
		ActiveLaneMask:             binary.LittleEndian.Uint64(b[16:]),
		PreferredCodecBitmap:       binary.LittleEndian.Uint32(b[24:]),
		PreferredCompressionBitmap: binary.LittleEndian.Uint32(b[28:]),
		ProfilePatchBytes:          binary.LittleEndian.Uint32(b[32:]),
	}
	if err := checkZero(TypeSessionPatch, "reserved", binary.LittleEndian.Uint16(b[2:])); err != nil {
		return SessionPatch{}, 0, err
	}
	if err := m.validate(); err != nil {
		return SessionPatch{}, 0, err
	}
	return m, sessionPatchLen, nil
}

// SessionPatchAck is the metadata of SESSION_PATCH_ACK (type 0x04, 48 bytes,
// C§4.7), session-scoped. The body is the profile patch ack block of
// ProfilePatchAckBytes (for the tensor profile a TensorProfilePatch).
type SessionPatchAck struct {
	Status                     PatchAckStatus    `json:"ack_status"`
	RejectReason               PatchRejectReason `json:"reject_reason"`
	AppliedMask                PatchMask         `json:"applied_patch_mask"`
	RejectedMask               PatchMask         `json:"rejected_patch_mask"`
	RetryAfterMS               uint32            `json:"retry_after_ms"`
	EffectiveProfileID         ProfileID         `json:"effective_profile_id"`
	EffectiveTargetCadenceX100 uint32            `json:"effective_target_cadence_x100"`
	EffectiveQualityTier       uint16            `json:"effective_quality_tier"`
	EffectiveDegradePolicy     uint16            `json:"effective_degrade_policy"`
	EffectiveLaneMask          uint64            `json:"effective_lane_mask"`
	EffectiveCodecBitmap       uint32            `json:"effective_codec_bitmap"`
	EffectiveCompressionBitmap uint32            `json:"effective_compression_bitmap"`
	ProfilePatchAckBytes       uint32            `json:"profile_patch_ack_bytes"`
}

// Type returns TypeSessionPatchAck.
func (*SessionPatchAck) Type() MessageType { return TypeSessionPatchAck }

// Len returns 48.
func (*SessionPatchAck) Len() int { return sessionPatchAckLen }

// ExpectedBodyLen returns ProfilePatchAckBytes.
func (m *SessionPatchAck) ExpectedBodyLen() (uint64, bool) {
	return uint64(m.ProfilePatchAckBytes), true
}

func (m *SessionPatchAck) validate() error {
	const t = TypeSessionPatchAck
	return firstErr(
		checkMax(t, "ack_status", m.Status, PatchRejected),
		checkMax(t, "reject_reason", m.RejectReason, PatchRejectRateLimited),
		checkMask(t, "applied_patch_mask", m.AppliedMask, knownPatchMask),
		checkMask(t, "rejected_patch_mask", m.RejectedMask, knownPatchMask),
	)
}

// CheckHeader enforces the scope of SESSION_PATCH_ACK (C§4.7): a non-zero
// header session_id and frame_id 0.
func (m *SessionPatchAck) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeSessionPatchAck, h, true)
}

// Append validates m and appends its 48 bytes to b.
func (m *SessionPatchAck) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *SessionPatchAck) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Status))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.RejectReason))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.AppliedMask))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.RejectedMask))
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.EffectiveProfileID))
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, m.EffectiveTargetCadenceX100)
	b = binary.LittleEndian.AppendUint16(b, m.EffectiveQualityTier)
	b = binary.LittleEndian.AppendUint16(b, m.EffectiveDegradePolicy)
	b = binary.LittleEndian.AppendUint64(b, m.EffectiveLaneMask)
	b = binary.LittleEndian.AppendUint32(b, m.EffectiveCodecBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.EffectiveCompressionBitmap)
	b = binary.LittleEndian.AppendUint32(b, m.ProfilePatchAckBytes)
	return b
}

// ParseSessionPatchAck decodes and validates SESSION_PATCH_ACK metadata from
// the start of b.
func ParseSessionPatchAck(b []byte) (SessionPatchAck, int, error) {
	if len(b) < sessionPatchAckLen {
		return SessionPatchAck{}, 0, errShort(TypeSessionPatchAck, "metadata", sessionPatchAckLen, len(b))
	}
	m := SessionPatchAck{
		Status:                     PatchAckStatus(binary.LittleEndian.Uint16(b[0:])),
		RejectReason:               PatchRejectReason(binary.LittleEndian.Uint16(b[2:])),
		AppliedMask:                PatchMask(binary.LittleEndian.Uint32(b[4:])),
		RejectedMask:               PatchMask(binary.LittleEndian.Uint32(b[8:])),
		RetryAfterMS:               binary.LittleEndian.Uint32(b[12:]),
		EffectiveProfileID:         ProfileID(binary.LittleEndian.Uint16(b[16:])),
		EffectiveTargetCadenceX100: binary.LittleEndian.Uint32(b[20:]),
		EffectiveQualityTier:       binary.LittleEndian.Uint16(b[24:]),
		EffectiveDegradePolicy:     binary.LittleEndian.Uint16(b[26:]),
		EffectiveLaneMask:          binary.LittleEndian.Uint64(b[28:]),
		EffectiveCodecBitmap:       binary.LittleEndian.Uint32(b[36:]),
		EffectiveCompressionBitmap: binary.LittleEndian.Uint32(b[40:]),
		ProfilePatchAckBytes:       binary.LittleEndian.Uint32(b[44:]),
	}
	if err := checkZero(TypeSessionPatchAck, "reserved", binary.LittleEndian.Uint16(b[18:])); err != nil {
		return SessionPatchAck{}, 0, err
	}
	if err := m.validate(); err != nil {
		return SessionPatchAck{}, 0, err
	}
	return m, sessionPatchAckLen, nil
}

// TensorProfilePatch is the 16-byte profile patch block of the tensor
// profile (C§4.7), the body of SESSION_PATCH and of SESSION_PATCH_ACK. The
// values are not range-checked: a server answers a bad range with
// reject_reason invalid_range.
type TensorProfilePatch struct {
	MinWidth  uint32 `json:"min_width"`
	MinHeight uint32 `json:"min_height"`
	MaxWidth  uint32 `json:"max_width"`
	MaxHeight uint32 `json:"max_height"`
}

// Len returns 16.
func (*TensorProfilePatch) Len() int { return tensorProfilePatchLen }

// Append appends the 16 bytes of p to b.
func (p *TensorProfilePatch) Append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.MinWidth)
	b = binary.LittleEndian.AppendUint32(b, p.MinHeight)
	b = binary.LittleEndian.AppendUint32(b, p.MaxWidth)
	b = binary.LittleEndian.AppendUint32(b, p.MaxHeight)
	return b
}

// ParseTensorProfilePatch decodes a tensor profile patch block from the
// start of b. Its only failure is a short input (reported against
// SESSION_PATCH).
func ParseTensorProfilePatch(b []byte) (TensorProfilePatch, int, error) {
	if len(b) < tensorProfilePatchLen {
		return TensorProfilePatch{}, 0, errShort(TypeSessionPatch, "profile_patch_block", tensorProfilePatchLen, len(b))
	}
	return TensorProfilePatch{
		MinWidth:  binary.LittleEndian.Uint32(b[0:]),
		MinHeight: binary.LittleEndian.Uint32(b[4:]),
		MaxWidth:  binary.LittleEndian.Uint32(b[8:]),
		MaxHeight: binary.LittleEndian.Uint32(b[12:]),
	}, tensorProfilePatchLen, nil
}
