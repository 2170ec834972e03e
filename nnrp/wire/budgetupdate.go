package wire

import "encoding/binary"

// BudgetUpdateFlags is the flags word of BUDGET_UPDATE (C§7.7).
type BudgetUpdateFlags uint32

// Budget update flags.
const (
	BudgetReplace   BudgetUpdateFlags = 0x1 // the values replace the current budget
	BudgetIncrement BudgetUpdateFlags = 0x2 // the values are added to the current budget

	knownBudgetUpdateFlags = BudgetReplace | BudgetIncrement
)

const budgetUpdateLen = 40

// BudgetUpdate is the metadata of BUDGET_UPDATE (type 0x36, 40 bytes, C§7.7,
// optional control.budget_update). The body is empty.
type BudgetUpdate struct {
	// OperationID is the target operation; 0 means the session budget. The
	// header frame_id must match it (CheckOperationFrame).
	OperationID          uint64            `json:"operation_id"`
	ComputeBudgetUnits   uint64            `json:"compute_budget_units"` // in the negotiated cost model
	MemoryBudgetBytes    uint64            `json:"memory_budget_bytes"`
	BandwidthBudgetBytes uint64            `json:"bandwidth_budget_bytes"`
	TokenBudget          uint32            `json:"token_budget"`
	Flags                BudgetUpdateFlags `json:"flags"`
}

// Type returns TypeBudgetUpdate.
func (*BudgetUpdate) Type() MessageType { return TypeBudgetUpdate }

// Len returns 40.
func (*BudgetUpdate) Len() int { return budgetUpdateLen }

// ExpectedBodyLen returns 0: the body is empty.
func (*BudgetUpdate) ExpectedBodyLen() (uint64, bool) { return 0, true }

// CorrelatedOperation returns OperationID.
func (m *BudgetUpdate) CorrelatedOperation() uint64 { return m.OperationID }

func (m *BudgetUpdate) validate() error {
	return checkMask(TypeBudgetUpdate, "flags", m.Flags, knownBudgetUpdateFlags)
}

// Append validates m and appends its 40 bytes to b.
func (m *BudgetUpdate) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ComputeBudgetUnits)
	b = binary.LittleEndian.AppendUint64(b, m.MemoryBudgetBytes)
	b = binary.LittleEndian.AppendUint64(b, m.BandwidthBudgetBytes)
	b = binary.LittleEndian.AppendUint32(b, m.TokenBudget)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return b, nil
}

// ParseBudgetUpdate decodes and validates BUDGET_UPDATE metadata from the
// start of b.
func ParseBudgetUpdate(b []byte) (BudgetUpdate, int, error) {
	if len(b) < budgetUpdateLen {
		return BudgetUpdate{}, 0, errShort(TypeBudgetUpdate, "metadata", budgetUpdateLen, len(b))
	}
	m := BudgetUpdate{
		OperationID:          binary.LittleEndian.Uint64(b[0:]),
		ComputeBudgetUnits:   binary.LittleEndian.Uint64(b[8:]),
		MemoryBudgetBytes:    binary.LittleEndian.Uint64(b[16:]),
		BandwidthBudgetBytes: binary.LittleEndian.Uint64(b[24:]),
		TokenBudget:          binary.LittleEndian.Uint32(b[32:]),
		Flags:                BudgetUpdateFlags(binary.LittleEndian.Uint32(b[36:])),
	}
	if err := m.validate(); err != nil {
		return BudgetUpdate{}, 0, err
	}
	return m, budgetUpdateLen, nil
}
