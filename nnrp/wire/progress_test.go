package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseProgress) }

func randomProgress(r *rand.Rand) Progress {
	percent := rBelow(r, uint16(maxPercentX100+1))
	if r.IntN(8) == 0 {
		percent = PercentUnknown
	}
	return Progress{
		OperationID: 1 + rBelow(r, ^uint64(0)), ProgressSequence: r64(r), Stage: StageCode(r16(r)),
		PercentX100: percent, ObjectID: r64(r), BodyBytes: r32(r),
	}
}

func TestProgressCodec(t *testing.T) { checkMessage(t, ParseProgress, randomProgress) }

func TestProgressRejects(t *testing.T) {
	base := Progress{OperationID: 301, ProgressSequence: 1, Stage: StageExecuting, PercentX100: maxPercentX100,
		ObjectID: 0x1122334455667788, BodyBytes: 5}
	rtRejects(t, base, ParseProgress, []rtCase[Progress]{
		{"operation_id 0", func(m *Progress) { m.OperationID = 0 }, func(b []byte) { rtPut64(b, 0, 0) }},
		{"percent 10001", func(m *Progress) { m.PercentX100 = 10001 }, func(b []byte) { rtPut16(b, 18, 10001) }},
		{"percent 0xfffe", func(m *Progress) { m.PercentX100 = 0xFFFE }, func(b []byte) { rtPut16(b, 18, 0xFFFE) }},
	})
}

// object_id is an unaligned u64 at offset 20 (C§7.4).
func TestProgressObjectIDOffset(t *testing.T) {
	m := Progress{OperationID: 1, PercentX100: PercentUnknown, ObjectID: 0x0807060504030201, BodyBytes: 0xAABBCCDD}
	b, err := m.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 0xDD, 0xCC, 0xBB, 0xAA}
	if string(b[20:32]) != string(want) {
		t.Fatalf("bytes 20..32 = % x, want % x", b[20:32], want)
	}
}
