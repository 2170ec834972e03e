package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseBudgetUpdate) }

func randomBudgetUpdate(r *rand.Rand) BudgetUpdate {
	return BudgetUpdate{
		OperationID: r64(r), ComputeBudgetUnits: r64(r), MemoryBudgetBytes: r64(r),
		BandwidthBudgetBytes: r64(r), TokenBudget: r32(r), Flags: rBits(r, knownBudgetUpdateFlags),
	}
}

func TestBudgetUpdateCodec(t *testing.T) { checkMessage(t, ParseBudgetUpdate, randomBudgetUpdate) }

func TestBudgetUpdateRejects(t *testing.T) {
	base := BudgetUpdate{OperationID: 7, ComputeBudgetUnits: 100, TokenBudget: 64, Flags: BudgetReplace}
	rtRejects(t, base, ParseBudgetUpdate, []rtCase[BudgetUpdate]{
		{"flag 0x4", func(m *BudgetUpdate) { m.Flags |= 0x4 }, func(b []byte) { b[36] |= 0x4 }},
		{"flag 0x01000000", func(m *BudgetUpdate) { m.Flags = 0x01000000 }, func(b []byte) { b[39] = 0x01 }},
	})
}
