package wire

import (
	"math/rand/v2"
	"testing"
)

// randomResultPush returns a result that satisfies the send-side rules.
func randomResultPush(r *rand.Rand) ResultPush {
	m := ResultPush{
		StatusCode: r16(r), ActiveProfileID: ProfileID(r16(r)), InferenceMS: r16(r), QueueMS: r16(r),
		ServerTotalMS: r16(r), Class: rBelow(r, ResultClass(4)), Flags: rBits(r, knownResultFlags),
		AppliedBudgetPolicy: rBits(r, knownBudgetPolicy), PayloadKindBitmap: rBits(r, knownPayloadKinds),
	}
	if m.Class == ClassStaleReuse || m.Flags&ResultFlagStale != 0 {
		m.ReusedFrameID = r32(r) | 1
	}
	if kinds := m.PayloadKindBitmap &^ PayloadTensor; kinds != 0 {
		m.PayloadFrameCount = uint16(kindBits(kinds) + r.IntN(100))
	}
	if m.IsTensor() {
		m.SectionCount, m.TileBaseID = r16(r), r32(r)
		n := 1 + r.IntN(0xFFFF)
		m.TileCount = uint16(n)
		m.TileIndexBytes = uint32(2 * n * r.IntN(2))
		dropped := r.IntN(n + 1)
		if (m.Class == ClassPartial || m.Flags&ResultFlagPartial != 0) && dropped == 0 {
			dropped = 1
		}
		m.DroppedTileCount, m.CoveredTileCount = uint16(dropped), uint16(n-dropped)
	}
	return m
}

func kindBits(k PayloadKind) int {
	n := 0
	for ; k != 0; k &= k - 1 {
		n++
	}
	return n
}

func TestResultPushCodec(t *testing.T) { checkMessage(t, ParseResultPush, randomResultPush) }

func TestResultPushRejects(t *testing.T) {
	tensor := ResultPush{PayloadKindBitmap: PayloadTensor, TileCount: 4, CoveredTileCount: 4}
	token := ResultPush{PayloadKindBitmap: PayloadTokenChunk, PayloadFrameCount: 1}
	with := func(m ResultPush, f func(*ResultPush)) ResultPush { f(&m); return m }
	// Rules of the reference parser: rejected on send and on receive.
	for _, tc := range []struct {
		name string
		m    ResultPush
	}{
		{"result_flags 0x8", with(tensor, func(m *ResultPush) { m.Flags = 0x8 })},
		{"result_class 4", with(tensor, func(m *ResultPush) { m.Class = 4 })},
		{"applied_budget_policy 0x10", with(tensor, func(m *ResultPush) { m.AppliedBudgetPolicy = 0x10 })},
		{"payload_kind_bitmap 0x80", with(tensor, func(m *ResultPush) { m.PayloadKindBitmap |= 0x80 })},
		{"R1 section_count", with(token, func(m *ResultPush) { m.SectionCount = 1 })},
		{"R1 tile_count", with(token, func(m *ResultPush) { m.TileCount = 1 })},
		{"R1 tile_base_id", with(token, func(m *ResultPush) { m.TileBaseID = 1 })},
		{"R1 tile_index_bytes", with(token, func(m *ResultPush) { m.TileIndexBytes = 2 })},
		{"R1 covered", with(token, func(m *ResultPush) { m.CoveredTileCount = 1 })},
		{"R1 dropped", with(token, func(m *ResultPush) { m.DroppedTileCount = 1 })},
	} {
		_, err := tc.m.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		_, _, err = ParseResultPush(tc.m.appendUnchecked(nil))
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
	// Send-side invariants: Append refuses, the lenient parser accepts.
	for _, tc := range []struct {
		name string
		m    ResultPush
	}{
		{"R2 reused without stale", with(tensor, func(m *ResultPush) { m.ReusedFrameID = 41 })},
		{"R2 class stale without reused", with(tensor, func(m *ResultPush) { m.Class = ClassStaleReuse })},
		{"R2 flag stale without reused", with(tensor, func(m *ResultPush) { m.Flags = ResultFlagStale })},
		{"R2 flags PARTIAL with reused (rust baseline)", ResultPush{PayloadKindBitmap: PayloadTensor, Flags: ResultFlagPartial,
			Class: ClassPartial, TileCount: 84, CoveredTileCount: 53, DroppedTileCount: 31, ReusedFrameID: 41}},
		{"R3 covered+dropped < tile_count", with(tensor, func(m *ResultPush) { m.CoveredTileCount = 3 })},
		{"R3 covered+dropped > tile_count", with(tensor, func(m *ResultPush) { m.DroppedTileCount = 1 })},
		{"R4 class partial without drops", with(tensor, func(m *ResultPush) { m.Class = ClassPartial })},
		{"R4 flag partial without drops", with(tensor, func(m *ResultPush) { m.Flags = ResultFlagPartial })},
		{"R7 kinds without frames", with(token, func(m *ResultPush) { m.PayloadFrameCount = 0 })},
		{"R7 frames without kinds", with(tensor, func(m *ResultPush) { m.PayloadFrameCount = 1 })},
		{"R7 fewer frames than kinds", with(token, func(m *ResultPush) { m.PayloadKindBitmap |= PayloadAudioChunk })},
	} {
		_, err := tc.m.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		if _, _, err := ParseResultPush(tc.m.appendUnchecked(nil)); err != nil {
			t.Fatalf("%s: the lenient parser refused it: %v", tc.name, err)
		}
	}
	// R5: PARTIAL + STALE is the preview4 golden and must be accepted.
	golden := ResultPush{PayloadKindBitmap: PayloadTensor, Flags: ResultFlagPartial | ResultFlagStale,
		Class: ClassPartial, TileCount: 84, CoveredTileCount: 53, DroppedTileCount: 31, ReusedFrameID: 41}
	if _, err := golden.Append(nil); err != nil {
		t.Fatalf("R5 partial+stale: %v", err)
	}
	for _, off := range []int{10, 11, 18, 19, 28, 35, 36, 43, 46, 47, 62, 63} {
		b := tensor.appendUnchecked(nil)
		b[off] = 1
		_, _, err := ParseResultPush(b)
		expectReject(t, "reserved byte "+itoa(uint64(off)), err, CodeMalformedBody)
	}
}

func TestResultPushCheckPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		m       ResultPush
		allowed BudgetPolicy
		ok      bool
	}{
		{"complete, nothing applied", ResultPush{}, 0, true},
		{"applied within allowed", ResultPush{AppliedBudgetPolicy: AllowPartial}, AllowPartial | AllowDrop, true},
		{"applied beyond allowed", ResultPush{AppliedBudgetPolicy: AllowDegraded}, AllowPartial, false},
		{"partial allowed", ResultPush{Class: ClassPartial, AppliedBudgetPolicy: AllowPartial}, AllowPartial, true},
		{"partial class not allowed", ResultPush{Class: ClassPartial}, AllowStaleReuse, false},
		{"partial flag not allowed", ResultPush{Flags: ResultFlagPartial}, AllowDegraded, false},
		{"stale class not allowed", ResultPush{Class: ClassStaleReuse}, AllowPartial, false},
		{"stale flag not allowed", ResultPush{Class: ClassPartial, Flags: ResultFlagStale}, AllowPartial, false},
		{"partial+stale allowed", ResultPush{Class: ClassPartial, Flags: ResultFlagStale | ResultFlagPartial}, AllowPartial | AllowStaleReuse, true},
		{"degraded not allowed", ResultPush{Class: ClassDegraded}, AllowPartial, false},
		{"fallback flag not allowed", ResultPush{Flags: ResultFlagFallback}, 0, false},
		{"degraded allowed", ResultPush{Class: ClassDegraded, Flags: ResultFlagFallback}, AllowDegraded, true},
	} {
		err := tc.m.CheckPolicy(tc.allowed)
		if tc.ok {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			continue
		}
		expectReject(t, tc.name, err, CodeInvalidState)
	}
}
