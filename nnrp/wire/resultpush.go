package wire

import (
	"encoding/binary"
	"math/bits"
)

const resultPushLen = 64

// ResultFlags is RESULT_PUSH.result_flags (D§8.1, D§12): composable
// properties of a result, next to its primary ResultClass.
type ResultFlags uint16

// Result flags. Bits 3–15 are rejected.
const (
	ResultFlagStale    ResultFlags = 0x1 // reuses an earlier frame's result (ReusedFrameID names it)
	ResultFlagFallback ResultFlags = 0x2 // cheaper/lower-quality compute was used
	ResultFlagPartial  ResultFlags = 0x4 // some tiles were dropped

	knownResultFlags ResultFlags = 0x7
)

// ResultPush is the metadata of RESULT_PUSH (type 0x12, 64 bytes, D§8.1), the
// terminal success of one operation. The body (D§8.3) is read with
// ResultView and written with ResultBuilder.
//
// Enforce when sending, check leniently when receiving (D§8.2):
// ParseResultPush checks exactly what the reference parser checks —
// reserved fields, the flag/policy/bitmap masks, the class range and R1 (a
// result without the TENSOR kind has all six tile fields zero). Append
// additionally enforces the send-side invariants R2 (ReusedFrameID != 0 iff
// class STALE_REUSE or flag STALE), R3 (tensor: covered + dropped =
// tile_count), R4 (tensor, class or flag PARTIAL: dropped > 0) and the
// metadata-only part of R7 (PayloadFrameCount is zero iff there are no
// non-tensor kinds, and at least one descriptor per non-tensor kind). So a
// peer's result that only a lenient parser accepts (the nnrp-rs baseline
// copy with flags 0x4 and reused 41) parses but cannot be re-sent. R6 needs
// the submit and is CheckPolicy.
type ResultPush struct {
	StatusCode      uint16      `json:"status_code"` // not validated; send 0
	Flags           ResultFlags `json:"result_flags"`
	SectionCount    uint16      `json:"section_count"`
	TileCount       uint16      `json:"tile_count"`
	ActiveProfileID ProfileID   `json:"active_profile_id"`
	InferenceMS     uint16      `json:"inference_ms"`
	QueueMS         uint16      `json:"queue_ms"`
	ServerTotalMS   uint16      `json:"server_total_ms"`
	TileBaseID      uint32      `json:"tile_base_id"` // DENSE_RANGE base of the result tiles
	// TileIndexBytes is 0 (DENSE_RANGE) or 2×TileCount (RAW_U16); D§6.
	TileIndexBytes      uint32       `json:"tile_index_bytes"`
	Class               ResultClass  `json:"result_class"`
	AppliedBudgetPolicy BudgetPolicy `json:"applied_budget_policy"`
	ReusedFrameID       uint32       `json:"reused_frame_id"` // frame whose result was reused, or 0
	CoveredTileCount    uint16       `json:"covered_tile_count"`
	DroppedTileCount    uint16       `json:"dropped_tile_count"`
	PayloadKindBitmap   PayloadKind  `json:"payload_kind_bitmap"`
	PayloadFrameCount   uint16       `json:"payload_frame_count"`
}

// Type returns TypeResultPush.
func (*ResultPush) Type() MessageType { return TypeResultPush }

// Len returns 64.
func (*ResultPush) Len() int { return resultPushLen }

// ExpectedBodyLen reports that the body length is not determined by the
// metadata.
func (*ResultPush) ExpectedBodyLen() (uint64, bool) { return 0, false }

// IsTensor reports whether the result carries the TENSOR payload kind.
func (m *ResultPush) IsTensor() bool { return m.PayloadKindBitmap&PayloadTensor != 0 }

// validate is the receive-side check (what the reference parser checks).
func (m *ResultPush) validate() error {
	const t = TypeResultPush
	if err := firstErr(
		checkMask(t, "result_flags", m.Flags, knownResultFlags),
		checkMax(t, "result_class", m.Class, ClassDegraded),
		checkMask(t, "applied_budget_policy", m.AppliedBudgetPolicy, knownBudgetPolicy),
		checkMask(t, "payload_kind_bitmap", m.PayloadKindBitmap, knownPayloadKinds),
	); err != nil {
		return err
	}
	if !m.IsTensor() && (uint32(m.SectionCount)|uint32(m.TileCount)|m.TileBaseID|m.TileIndexBytes|
		uint32(m.CoveredTileCount)|uint32(m.DroppedTileCount)) != 0 {
		return errInvalid(t, "payload_kind_bitmap", "non-tensor result must clear the six tile fields (R1)")
	}
	return nil
}

// validateSend adds the send-side invariants R2–R4 and the count part of R7.
func (m *ResultPush) validateSend() error {
	const t = TypeResultPush
	if err := m.validate(); err != nil {
		return err
	}
	stale := m.Class == ClassStaleReuse || m.Flags&ResultFlagStale != 0
	if stale != (m.ReusedFrameID != 0) {
		return errInvalid(t, "reused_frame_id",
			"is %d; must be non-zero exactly when the class is STALE_REUSE or flag STALE is set (R2)", m.ReusedFrameID)
	}
	if m.IsTensor() {
		if uint32(m.CoveredTileCount)+uint32(m.DroppedTileCount) != uint32(m.TileCount) {
			return errInvalid(t, "covered_tile_count", "covered %d + dropped %d != tile_count %d (R3)",
				m.CoveredTileCount, m.DroppedTileCount, m.TileCount)
		}
		if (m.Class == ClassPartial || m.Flags&ResultFlagPartial != 0) && m.DroppedTileCount == 0 {
			return errInvalid(t, "dropped_tile_count", "a PARTIAL result must drop at least one tile (R4)")
		}
	}
	kinds := m.PayloadKindBitmap &^ PayloadTensor
	if (kinds == 0) != (m.PayloadFrameCount == 0) ||
		int(m.PayloadFrameCount) < bits.OnesCount32(uint32(kinds)) {
		return errInvalid(t, "payload_frame_count",
			"%d typed frames cannot carry the non-tensor kinds 0x%x (R7)", m.PayloadFrameCount, uint32(kinds))
	}
	return nil
}

// CheckPolicy implements R6 (D§8.2, D§12) for the session layer, given the
// budget_policy of the submit this result answers: AppliedBudgetPolicy must
// be a subset of allowed, and every reduction the result signals must be
// allowed — class or flag PARTIAL needs ALLOW_PARTIAL, class STALE_REUSE or
// flag STALE needs ALLOW_STALE_REUSE, class DEGRADED or flag FALLBACK needs
// ALLOW_DEGRADED. A violation is CodeInvalidState: the bytes are well formed
// but the result breaks the submit's contract.
func (m *ResultPush) CheckPolicy(allowed BudgetPolicy) error {
	const t = TypeResultPush
	if extra := m.AppliedBudgetPolicy &^ allowed; extra != 0 {
		return errCode(t, CodeInvalidState, "applied_budget_policy",
			"applies 0x%x, which the submit's budget_policy 0x%x does not allow", uint8(extra), uint8(allowed))
	}
	var need BudgetPolicy
	if m.Class == ClassPartial || m.Flags&ResultFlagPartial != 0 {
		need |= AllowPartial
	}
	if m.Class == ClassStaleReuse || m.Flags&ResultFlagStale != 0 {
		need |= AllowStaleReuse
	}
	if m.Class == ClassDegraded || m.Flags&ResultFlagFallback != 0 {
		need |= AllowDegraded
	}
	if missing := need &^ allowed; missing != 0 {
		return errCode(t, CodeInvalidState, "result_class",
			"class %s / flags 0x%x need budget_policy 0x%x, submit allows 0x%x",
			m.Class, uint16(m.Flags), uint8(need), uint8(allowed))
	}
	return nil
}

// CheckHeader applies the header rules of a RESULT_PUSH (C§2.3, D§2): the
// session's non-zero session_id (CodeInvalidState; the reference client
// silently drops session-0 results, ERRATA 3) and the non-zero frame_id of
// the submit it answers. Whether that frame is pending is the session
// layer's check.
func (m *ResultPush) CheckHeader(h *Header) error { return dataHeader(TypeResultPush, h) }

// Append validates m with the send-side rules and appends its 64 bytes to b.
func (m *ResultPush) Append(b []byte) ([]byte, error) {
	if err := m.validateSend(); err != nil {
		return b, err
	}
	return m.appendUnchecked(b), nil
}

func (m *ResultPush) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, m.StatusCode)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Flags))
	b = binary.LittleEndian.AppendUint16(b, m.SectionCount)
	b = binary.LittleEndian.AppendUint16(b, m.TileCount)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.ActiveProfileID))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, m.InferenceMS)
	b = binary.LittleEndian.AppendUint16(b, m.QueueMS)
	b = binary.LittleEndian.AppendUint16(b, m.ServerTotalMS)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, m.TileBaseID)
	b = binary.LittleEndian.AppendUint32(b, m.TileIndexBytes)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = append(b, byte(m.Class), byte(m.AppliedBudgetPolicy), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, m.ReusedFrameID)
	b = binary.LittleEndian.AppendUint16(b, m.CoveredTileCount)
	b = binary.LittleEndian.AppendUint16(b, m.DroppedTileCount)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.PayloadKindBitmap))
	b = binary.LittleEndian.AppendUint16(b, m.PayloadFrameCount)
	b = binary.LittleEndian.AppendUint16(b, 0)
	return b
}

// ParseResultPush decodes RESULT_PUSH metadata from the start of b and
// applies the receive-side checks (see ResultPush).
func ParseResultPush(b []byte) (ResultPush, int, error) {
	const t = TypeResultPush
	if len(b) < resultPushLen {
		return ResultPush{}, 0, errShort(t, "metadata", resultPushLen, len(b))
	}
	m := ResultPush{
		StatusCode:          binary.LittleEndian.Uint16(b[0:]),
		Flags:               ResultFlags(binary.LittleEndian.Uint16(b[2:])),
		SectionCount:        binary.LittleEndian.Uint16(b[4:]),
		TileCount:           binary.LittleEndian.Uint16(b[6:]),
		ActiveProfileID:     ProfileID(binary.LittleEndian.Uint16(b[8:])),
		InferenceMS:         binary.LittleEndian.Uint16(b[12:]),
		QueueMS:             binary.LittleEndian.Uint16(b[14:]),
		ServerTotalMS:       binary.LittleEndian.Uint16(b[16:]),
		TileBaseID:          binary.LittleEndian.Uint32(b[20:]),
		TileIndexBytes:      binary.LittleEndian.Uint32(b[24:]),
		Class:               ResultClass(b[44]),
		AppliedBudgetPolicy: BudgetPolicy(b[45]),
		ReusedFrameID:       binary.LittleEndian.Uint32(b[48:]),
		CoveredTileCount:    binary.LittleEndian.Uint16(b[52:]),
		DroppedTileCount:    binary.LittleEndian.Uint16(b[54:]),
		PayloadKindBitmap:   PayloadKind(binary.LittleEndian.Uint32(b[56:])),
		PayloadFrameCount:   binary.LittleEndian.Uint16(b[60:]),
	}
	if err := firstErr(
		checkZero(t, "reserved0", binary.LittleEndian.Uint16(b[10:])),
		checkZero(t, "reserved1", binary.LittleEndian.Uint16(b[18:])),
		checkZero(t, "reserved2", binary.LittleEndian.Uint64(b[28:])),
		checkZero(t, "reserved3", binary.LittleEndian.Uint64(b[36:])),
		checkZero(t, "reserved4", binary.LittleEndian.Uint16(b[46:])),
		checkZero(t, "reserved5", binary.LittleEndian.Uint16(b[62:])),
		m.validate(),
	); err != nil {
		return ResultPush{}, 0, err
	}
	return m, resultPushLen, nil
}
