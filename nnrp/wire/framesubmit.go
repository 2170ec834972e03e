package wire

import "encoding/binary"

const frameSubmitLen = 72

// FrameClass is FRAME_SUBMIT.frame_class (D§3, D§5.4). It is informative:
// no receiver validates it, so every value is accepted.
type FrameClass uint8

// Frame classes (DOC preview1 §7.3).
const (
	FrameClassKeyframe    FrameClass = 0
	FrameClassDelta       FrameClass = 1
	FrameClassRetransmit  FrameClass = 2
	FrameClassDiscardable FrameClass = 3
)

// InputProfile is FRAME_SUBMIT.input_profile (D§3). It must be
// InputProfileUnspecified in a submit without the TENSOR payload kind.
type InputProfile uint8

// Input profiles.
const (
	InputProfileUnspecified      InputProfile = 0
	InputProfileChangedTilesLuma InputProfile = 1
	InputProfileDenseLumaFrame   InputProfile = 2
)

// SubmitMode is FRAME_SUBMIT.submit_mode (D§3, D§5.3): how the standard
// submit objects travel.
type SubmitMode uint8

// Submit modes.
const (
	SubmitModeInline    SubmitMode = 0 // every present standard object inline; object_ref_mask 0
	SubmitModeReference SubmitMode = 1 // every present standard object referenced
	SubmitModeMixed     SubmitMode = 2 // some inline, some referenced
)

// LossTolerance is FRAME_SUBMIT.loss_tolerance_policy (D§3, D§12).
type LossTolerance uint8

// Loss tolerance policies. Values 4..0xFE are rejected.
const (
	LossToleranceStrict         LossTolerance = 0
	LossToleranceBestEffort     LossTolerance = 1
	LossToleranceLowLatency     LossTolerance = 2
	LossToleranceFireAndForget  LossTolerance = 3
	LossToleranceInheritSession LossTolerance = 0xFF // builder default
)

// FrameSubmitSlots is a set of standard submit object slots (D§5.1): the
// FRAME_SUBMIT.object_ref_mask field, and the set of slots a body carries
// inline or by reference.
type FrameSubmitSlots uint32

// Standard submit slots, in their normative order.
const (
	FrameSubmitSlotCamera         FrameSubmitSlots = 0x1 // CAMERA_BLOCK
	FrameSubmitSlotTileIndex      FrameSubmitSlots = 0x2 // TILE_INDEX_BLOCK
	FrameSubmitSlotSectionTable   FrameSubmitSlots = 0x4 // TENSOR_SECTION_TABLE
	FrameSubmitSlotLayoutTemplate FrameSubmitSlots = 0x8 // PAYLOAD_LAYOUT_TEMPLATE

	knownFrameSubmitSlots FrameSubmitSlots = 0xF
)

// slotOfKind returns the standard slot an object kind fills, or 0 for a
// non-standard kind.
func slotOfKind(k CacheObjectKind) FrameSubmitSlots {
	switch k {
	case ObjectCameraBlock:
		return FrameSubmitSlotCamera
	case ObjectTileIndexBlock:
		return FrameSubmitSlotTileIndex
	case ObjectTensorSectionTable:
		return FrameSubmitSlotSectionTable
	case ObjectPayloadLayoutTemplate:
		return FrameSubmitSlotLayoutTemplate
	}
	return 0
}

// FrameSubmit is the metadata of FRAME_SUBMIT (type 0x10, 72 bytes, D§3).
// The body (D§4, D§5) is read with SubmitView and written with
// SubmitBuilder; its length is not determined by the metadata.
//
// Without the TENSOR payload kind every tensor field (dimensions, TileCount,
// SectionCount, TileBaseID, CameraBytes, TileIndexBytes) must be zero and
// InputProfile unspecified. Rules that need the session (frame_id and
// operation_id never reused) belong to the session layer.
type FrameSubmit struct {
	SrcWidth        uint16        `json:"src_width"`
	SrcHeight       uint16        `json:"src_height"`
	TileWidth       uint16        `json:"tile_width"`
	TileHeight      uint16        `json:"tile_height"`
	TileCount       uint16        `json:"tile_count"`    // entries of every section's length table
	SectionCount    uint16        `json:"section_count"` // sections in the tensor section table
	FrameClass      FrameClass    `json:"frame_class"`
	InputProfile    InputProfile  `json:"input_profile"`
	TileIndexMode   TileIndexMode `json:"tile_index_mode"`
	LatencyBudgetMS uint16        `json:"latency_budget_ms"` // 0 = none declared
	TargetFPSx100   uint16        `json:"target_fps_x100"`   // 6000 = 60 fps; 0 = none
	RetryOfFrame    uint32        `json:"retry_of_frame"`    // frame_id this submit retries, or 0
	TileBaseID      uint32        `json:"tile_base_id"`      // first tile id for DENSE_RANGE
	CameraBytes     uint32        `json:"camera_bytes"`      // inline camera block length
	TileIndexBytes  uint32        `json:"tile_index_bytes"`  // inline tile index block length
	OperationID     uint64        `json:"operation_id"`      // non-zero (D§2)
	SubmitMode      SubmitMode    `json:"submit_mode"`
	BudgetPolicy    BudgetPolicy  `json:"budget_policy"`
	LossTolerance   LossTolerance `json:"loss_tolerance_policy"`
	// ObjectRefMask is the set of standard slots sent by reference.
	ObjectRefMask     FrameSubmitSlots `json:"object_ref_mask"`
	DependencyFrameID uint32           `json:"dependency_frame_id"`
	PayloadKindBitmap PayloadKind      `json:"payload_kind_bitmap"`
	// PayloadFrameCount counts typed payload descriptors (not tensor sections).
	PayloadFrameCount uint16 `json:"payload_frame_count"`
}

// Type returns TypeFrameSubmit.
func (*FrameSubmit) Type() MessageType { return TypeFrameSubmit }

// Len returns 72.
func (*FrameSubmit) Len() int { return frameSubmitLen }

// ExpectedBodyLen reports that the body length is not determined by the
// metadata.
func (*FrameSubmit) ExpectedBodyLen() (uint64, bool) { return 0, false }

// IsTensor reports whether the submit carries the TENSOR payload kind.
func (m *FrameSubmit) IsTensor() bool { return m.PayloadKindBitmap&PayloadTensor != 0 }

func (m *FrameSubmit) validate() error {
	const t = TypeFrameSubmit
	if err := firstErr(
		checkMax(t, "input_profile", m.InputProfile, InputProfileDenseLumaFrame),
		checkMax(t, "tile_index_mode", m.TileIndexMode, TileIndexBitset),
		checkMax(t, "submit_mode", m.SubmitMode, SubmitModeMixed),
		checkLossTolerance(m.LossTolerance),
		checkMask(t, "budget_policy", m.BudgetPolicy, knownBudgetPolicy),
		checkMask(t, "payload_kind_bitmap", m.PayloadKindBitmap, knownPayloadKinds),
		checkNonZero(t, "payload_kind_bitmap", m.PayloadKindBitmap),
		checkNonZero(t, "operation_id", m.OperationID),
		checkMask(t, "object_ref_mask", m.ObjectRefMask, knownFrameSubmitSlots),
	); err != nil {
		return err
	}
	if !m.IsTensor() {
		if m.SrcWidth|m.SrcHeight|m.TileWidth|m.TileHeight|m.TileCount|m.SectionCount != 0 ||
			m.TileBaseID|m.CameraBytes|m.TileIndexBytes != 0 || m.InputProfile != 0 {
			return errInvalid(t, "payload_kind_bitmap",
				"non-tensor submit must clear the tensor tile fields and input_profile")
		}
	}
	switch {
	case m.SubmitMode == SubmitModeInline && m.ObjectRefMask != 0:
		return errInvalid(t, "object_ref_mask", "INLINE submit has object_ref_mask 0x%x, must be 0", uint32(m.ObjectRefMask))
	case m.SubmitMode != SubmitModeInline && m.ObjectRefMask == 0:
		return errInvalid(t, "object_ref_mask", "REFERENCE/MIXED submit needs a non-zero object_ref_mask")
	}
	return nil
}

// CheckHeader applies the header rules of a FRAME_SUBMIT for the session
// layer (C§2.3, D§2): a session-scoped session_id (non-zero, else
// CodeInvalidState) and a non-zero frame_id. Uniqueness of frame_id and
// operation_id within the session is the session layer's own check.
func (m *FrameSubmit) CheckHeader(h *Header) error { return dataHeader(TypeFrameSubmit, h) }

// dataHeader checks the session and frame scope of a data-plane packet.
func dataHeader(t MessageType, h *Header) error {
	if h.SessionID == 0 {
		return errCode(t, CodeInvalidState, "header.session_id", "%s is session-scoped, got session 0", t)
	}
	if h.FrameID == 0 {
		return errInvalid(t, "header.frame_id", "%s needs a non-zero frame_id", t)
	}
	return nil
}

func checkLossTolerance(v LossTolerance) error {
	if v > LossToleranceFireAndForget && v != LossToleranceInheritSession {
		return errInvalid(TypeFrameSubmit, "loss_tolerance_policy", "unknown value %d", uint8(v))
	}
	return nil
}

// Append validates m and appends its 72 bytes to b.
func (m *FrameSubmit) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.appendUnchecked(b), nil
}

func (m *FrameSubmit) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, m.SrcWidth)
	b = binary.LittleEndian.AppendUint16(b, m.SrcHeight)
	b = binary.LittleEndian.AppendUint16(b, m.TileWidth)
	b = binary.LittleEndian.AppendUint16(b, m.TileHeight)
	b = binary.LittleEndian.AppendUint16(b, m.TileCount)
	b = binary.LittleEndian.AppendUint16(b, m.SectionCount)
	b = append(b, byte(m.FrameClass), byte(m.InputProfile), byte(m.TileIndexMode), 0)
	b = binary.LittleEndian.AppendUint16(b, m.LatencyBudgetMS)
	b = binary.LittleEndian.AppendUint16(b, m.TargetFPSx100)
	b = binary.LittleEndian.AppendUint32(b, m.RetryOfFrame)
	b = binary.LittleEndian.AppendUint32(b, m.TileBaseID)
	b = binary.LittleEndian.AppendUint32(b, m.CameraBytes)
	b = binary.LittleEndian.AppendUint32(b, m.TileIndexBytes)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, byte(m.SubmitMode), byte(m.BudgetPolicy), byte(m.LossTolerance), 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.ObjectRefMask))
	b = binary.LittleEndian.AppendUint32(b, m.DependencyFrameID)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.PayloadKindBitmap))
	b = binary.LittleEndian.AppendUint16(b, m.PayloadFrameCount)
	b = binary.LittleEndian.AppendUint16(b, 0)
	return b
}

// ParseFrameSubmit decodes and validates FRAME_SUBMIT metadata from the
// start of b.
func ParseFrameSubmit(b []byte) (FrameSubmit, int, error) {
	const t = TypeFrameSubmit
	if len(b) < frameSubmitLen {
		return FrameSubmit{}, 0, errShort(t, "metadata", frameSubmitLen, len(b))
	}
	m := FrameSubmit{
		SrcWidth:          binary.LittleEndian.Uint16(b[0:]),
		SrcHeight:         binary.LittleEndian.Uint16(b[2:]),
		TileWidth:         binary.LittleEndian.Uint16(b[4:]),
		TileHeight:        binary.LittleEndian.Uint16(b[6:]),
		TileCount:         binary.LittleEndian.Uint16(b[8:]),
		SectionCount:      binary.LittleEndian.Uint16(b[10:]),
		FrameClass:        FrameClass(b[12]),
		InputProfile:      InputProfile(b[13]),
		TileIndexMode:     TileIndexMode(b[14]),
		LatencyBudgetMS:   binary.LittleEndian.Uint16(b[16:]),
		TargetFPSx100:     binary.LittleEndian.Uint16(b[18:]),
		RetryOfFrame:      binary.LittleEndian.Uint32(b[20:]),
		TileBaseID:        binary.LittleEndian.Uint32(b[24:]),
		CameraBytes:       binary.LittleEndian.Uint32(b[28:]),
		TileIndexBytes:    binary.LittleEndian.Uint32(b[32:]),
		OperationID:       binary.LittleEndian.Uint64(b[40:]),
		SubmitMode:        SubmitMode(b[52]),
		BudgetPolicy:      BudgetPolicy(b[53]),
		LossTolerance:     LossTolerance(b[54]),
		ObjectRefMask:     FrameSubmitSlots(binary.LittleEndian.Uint32(b[56:])),
		DependencyFrameID: binary.LittleEndian.Uint32(b[60:]),
		PayloadKindBitmap: PayloadKind(binary.LittleEndian.Uint32(b[64:])),
		PayloadFrameCount: binary.LittleEndian.Uint16(b[68:]),
	}
	if err := firstErr(
		checkZero(t, "reserved0", b[15]),
		checkZero(t, "reserved1", binary.LittleEndian.Uint32(b[36:])),
		checkZero(t, "reserved2", binary.LittleEndian.Uint32(b[48:])),
		checkZero(t, "reserved3", b[55]),
		checkZero(t, "reserved4", binary.LittleEndian.Uint16(b[70:])),
		m.validate(),
	); err != nil {
		return FrameSubmit{}, 0, err
	}
	return m, frameSubmitLen, nil
}
