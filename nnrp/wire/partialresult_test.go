package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParsePartialResult) }

func randomPartialResult(r *rand.Rand) PartialResult {
	m := PartialResult{
		OperationID: 1 + rBelow(r, ^uint64(0)), ResultSequence: r64(r), DeltaSequence: r64(r),
		BodyBytes: r32(r) >> r.UintN(33), Flags: rBits(r, knownPartialResultFlags),
	}
	if r.IntN(2) == 0 || m.BodyBytes == 0 || m.Flags&PartialObjectRefPresent != 0 {
		m.ObjectID = 1 + rBelow(r, ^uint64(0))
	}
	return m
}

func TestPartialResultCodec(t *testing.T) { checkMessage(t, ParsePartialResult, randomPartialResult) }

func TestPartialResultRejects(t *testing.T) {
	base := PartialResult{OperationID: 301, ResultSequence: 1, BodyBytes: 7, Flags: PartialFinal}
	rtRejects(t, base, ParsePartialResult, []rtCase[PartialResult]{
		{"operation_id 0", func(m *PartialResult) { m.OperationID = 0 }, func(b []byte) { rtPut64(b, 0, 0) }},
		{"flag 0x4", func(m *PartialResult) { m.Flags |= 0x4 }, func(b []byte) { b[36] |= 0x4 }},
		{"object_ref_present without object",
			func(m *PartialResult) { m.Flags |= PartialObjectRefPresent },
			func(b []byte) { b[36] |= byte(PartialObjectRefPresent) }},
		{"no body and no object", func(m *PartialResult) { m.BodyBytes = 0 }, func(b []byte) { rtPut32(b, 32, 0) }},
	})
}

// An object-only partial and an object reference with inline bytes are both
// valid.
func TestPartialResultObjectForms(t *testing.T) {
	for _, m := range []PartialResult{
		{OperationID: 1, ObjectID: 9, DeltaSequence: 2},
		{OperationID: 1, ObjectID: 9, BodyBytes: 3, Flags: PartialObjectRefPresent | PartialFinal},
	} {
		b, err := m.Append(nil)
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if got, _, err := ParsePartialResult(b); err != nil || got != m {
			t.Fatalf("got %+v, %v; want %+v", got, err, m)
		}
	}
}
