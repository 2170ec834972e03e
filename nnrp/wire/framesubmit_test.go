package wire

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func randomFrameSubmit(r *rand.Rand) FrameSubmit {
	m := FrameSubmit{
		FrameClass: FrameClass(r8(r)), TileIndexMode: rBelow(r, TileIndexMode(4)),
		LatencyBudgetMS: r16(r), TargetFPSx100: r16(r), RetryOfFrame: r32(r), OperationID: r64(r) | 1,
		BudgetPolicy:  rBits(r, knownBudgetPolicy),
		LossTolerance: []LossTolerance{0, 1, 2, 3, 0xFF}[r.IntN(5)],
		SubmitMode:    rBelow(r, SubmitMode(3)), DependencyFrameID: r32(r),
		PayloadKindBitmap: rBits(r, knownPayloadKinds) | PayloadKind(1)<<r.IntN(7),
		PayloadFrameCount: r16(r),
	}
	if m.SubmitMode != SubmitModeInline {
		m.ObjectRefMask = rBits(r, knownFrameSubmitSlots) | FrameSubmitSlots(1)<<r.IntN(4)
	}
	if m.IsTensor() {
		m.SrcWidth, m.SrcHeight, m.TileWidth, m.TileHeight = r16(r), r16(r), r16(r), r16(r)
		m.TileCount, m.SectionCount = r16(r), r16(r)
		m.InputProfile = rBelow(r, InputProfile(3))
		m.TileBaseID, m.CameraBytes, m.TileIndexBytes = r32(r), r32(r), r32(r)
	}
	return m
}

func TestFrameSubmitCodec(t *testing.T) { checkMessage(t, ParseFrameSubmit, randomFrameSubmit) }

func TestFrameSubmitRejects(t *testing.T) {
	base := FrameSubmit{OperationID: 1, PayloadKindBitmap: PayloadTensor, LossTolerance: LossToleranceInheritSession}
	token := FrameSubmit{OperationID: 1, PayloadKindBitmap: PayloadTokenChunk, TileIndexMode: TileIndexRawU16}
	with := func(m FrameSubmit, f func(*FrameSubmit)) FrameSubmit { f(&m); return m }
	for _, tc := range []struct {
		name string
		m    FrameSubmit
	}{
		{"input_profile 3", with(base, func(m *FrameSubmit) { m.InputProfile = 3 })},
		{"tile_index_mode 4", with(base, func(m *FrameSubmit) { m.TileIndexMode = 4 })},
		{"submit_mode 3", with(base, func(m *FrameSubmit) { m.SubmitMode = 3; m.ObjectRefMask = 1 })},
		{"loss_tolerance 4", with(base, func(m *FrameSubmit) { m.LossTolerance = 4 })},
		{"loss_tolerance 0xFE", with(base, func(m *FrameSubmit) { m.LossTolerance = 0xFE })},
		{"budget_policy 0x10", with(base, func(m *FrameSubmit) { m.BudgetPolicy = 0x10 })},
		{"payload_kind_bitmap 0x80", with(base, func(m *FrameSubmit) { m.PayloadKindBitmap |= 0x80 })},
		{"payload_kind_bitmap 0", with(base, func(m *FrameSubmit) { m.PayloadKindBitmap = 0 })},
		{"operation_id 0", with(base, func(m *FrameSubmit) { m.OperationID = 0 })},
		{"non-tensor src_width", with(token, func(m *FrameSubmit) { m.SrcWidth = 1 })},
		{"non-tensor src_height", with(token, func(m *FrameSubmit) { m.SrcHeight = 1 })},
		{"non-tensor tile_width", with(token, func(m *FrameSubmit) { m.TileWidth = 1 })},
		{"non-tensor tile_height", with(token, func(m *FrameSubmit) { m.TileHeight = 1 })},
		{"non-tensor tile_count", with(token, func(m *FrameSubmit) { m.TileCount = 1 })},
		{"non-tensor section_count", with(token, func(m *FrameSubmit) { m.SectionCount = 1 })},
		{"non-tensor tile_base_id", with(token, func(m *FrameSubmit) { m.TileBaseID = 1 })},
		{"non-tensor camera_bytes", with(token, func(m *FrameSubmit) { m.CameraBytes = 1 })},
		{"non-tensor tile_index_bytes", with(token, func(m *FrameSubmit) { m.TileIndexBytes = 1 })},
		{"non-tensor input_profile", with(token, func(m *FrameSubmit) { m.InputProfile = 1 })},
		{"object_ref_mask 0x10", with(base, func(m *FrameSubmit) { m.SubmitMode = SubmitModeMixed; m.ObjectRefMask = 0x11 })},
		{"INLINE with mask", with(base, func(m *FrameSubmit) { m.ObjectRefMask = 1 })},
		{"REFERENCE without mask", with(base, func(m *FrameSubmit) { m.SubmitMode = SubmitModeReference })},
		{"MIXED without mask", with(base, func(m *FrameSubmit) { m.SubmitMode = SubmitModeMixed })},
	} {
		_, err := tc.m.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		_, _, err = ParseFrameSubmit(tc.m.appendUnchecked(nil))
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
	for _, off := range []int{15, 36, 39, 48, 51, 55, 70, 71} {
		b := base.appendUnchecked(nil)
		b[off] = 1
		_, _, err := ParseFrameSubmit(b)
		expectReject(t, "reserved byte "+itoa(uint64(off)), err, CodeMalformedBody)
	}
	// The non-tensor tile_index_mode is free (reference builders write 1).
	for mode := range TileIndexMode(4) {
		m := with(token, func(m *FrameSubmit) { m.TileIndexMode = mode })
		if _, err := m.Append(nil); err != nil {
			t.Fatalf("non-tensor mode %d: %v", mode, err)
		}
	}
	if b := base.appendUnchecked(nil); binary.LittleEndian.Uint64(b[40:]) != 1 {
		t.Fatalf("operation_id not at offset 40: % x", b)
	}
}

func TestDataCheckHeader(t *testing.T) {
	var fs FrameSubmit
	var rp ResultPush
	for _, check := range []func(*Header) error{fs.CheckHeader, rp.CheckHeader} {
		expectOK(t, "valid", check(&Header{SessionID: 1, FrameID: 1}))
		expectReject(t, "session 0", check(&Header{FrameID: 1}), CodeInvalidState)
		expectReject(t, "frame 0", check(&Header{SessionID: 1}), CodeMalformedBody)
	}
}
