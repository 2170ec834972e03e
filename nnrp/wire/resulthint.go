package wire

import "encoding/binary"

// HintPolicy is RESULT_HINT.applied_budget_policy (C§6.2): the kind of
// answer the server is giving under pressure. It is an enumeration, unlike
// the BudgetPolicy bit set of FRAME_SUBMIT.
type HintPolicy uint32

// Applied budget policies.
const (
	HintPolicyNone       HintPolicy = 0
	HintPolicyFull       HintPolicy = 1
	HintPolicyPartial    HintPolicy = 2
	HintPolicyStaleReuse HintPolicy = 3
	HintPolicyDrop       HintPolicy = 4
)

var hintPolicyNames = []string{"none", "full", "partial", "stale_reuse", "drop"}

func (p HintPolicy) String() string {
	return ctlEnumName(hintPolicyNames, uint64(p), "applied_budget_policy")
}

// CongestionState is RESULT_HINT.congestion_state (C§6.2).
type CongestionState uint32

// Congestion states.
const (
	CongestionNone      CongestionState = 0
	CongestionSteady    CongestionState = 1
	CongestionElevated  CongestionState = 2
	CongestionSaturated CongestionState = 3
)

var congestionStateNames = []string{"none", "steady", "elevated", "saturated"}

func (s CongestionState) String() string {
	return ctlEnumName(congestionStateNames, uint64(s), "congestion_state")
}

// HintReason is RESULT_HINT.reason (C§6.2).
type HintReason uint32

// Hint reasons.
const (
	HintReasonNone           HintReason = 0
	HintReasonQueueFull      HintReason = 1
	HintReasonServerBusy     HintReason = 2
	HintReasonBudgetExceeded HintReason = 3
	HintReasonSuperseded     HintReason = 4
)

var hintReasonNames = []string{"none", "queue_full", "server_busy", "budget_exceeded", "superseded"}

func (r HintReason) String() string { return ctlEnumName(hintReasonNames, uint64(r), "reason") }

const resultHintLen = 16

// ResultHint is the metadata of RESULT_HINT (type 0x18, 16 bytes, C§6.2),
// sent by the server within a session; header frame_id names the frame the
// hint is about, or 0 for the whole session. No body.
type ResultHint struct {
	AppliedBudgetPolicy HintPolicy      `json:"applied_budget_policy"`
	CongestionState     CongestionState `json:"congestion_state"`
	Reason              HintReason      `json:"reason"`
	RetryAfterMS        uint32          `json:"retry_after_ms"` // 0 = no explicit wait
}

// Type returns TypeResultHint.
func (*ResultHint) Type() MessageType { return TypeResultHint }

// Len returns 16.
func (*ResultHint) Len() int { return resultHintLen }

// ExpectedBodyLen returns 0: RESULT_HINT has no body.
func (*ResultHint) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *ResultHint) validate() error {
	const t = TypeResultHint
	return firstErr(
		checkMax(t, "applied_budget_policy", m.AppliedBudgetPolicy, HintPolicyDrop),
		checkMax(t, "congestion_state", m.CongestionState, CongestionSaturated),
		checkMax(t, "reason", m.Reason, HintReasonSuperseded),
	)
}

// CheckHeader enforces the scope of RESULT_HINT (C§6.2): a non-zero header
// session_id; frame_id is free.
func (m *ResultHint) CheckHeader(h *Header) error { return ctlSessionScope(TypeResultHint, h, false) }

// Append validates m and appends its 16 bytes to b.
func (m *ResultHint) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *ResultHint) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(m.AppliedBudgetPolicy))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.CongestionState))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Reason))
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	return b
}

// ParseResultHint decodes and validates RESULT_HINT metadata from the start
// of b.
func ParseResultHint(b []byte) (ResultHint, int, error) {
	if len(b) < resultHintLen {
		return ResultHint{}, 0, errShort(TypeResultHint, "metadata", resultHintLen, len(b))
	}
	m := ResultHint{
		AppliedBudgetPolicy: HintPolicy(binary.LittleEndian.Uint32(b[0:])),
		CongestionState:     CongestionState(binary.LittleEndian.Uint32(b[4:])),
		Reason:              HintReason(binary.LittleEndian.Uint32(b[8:])),
		RetryAfterMS:        binary.LittleEndian.Uint32(b[12:]),
	}
	if err := m.validate(); err != nil {
		return ResultHint{}, 0, err
	}
	return m, resultHintLen, nil
}
