package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseResultHint) }

func randomResultHint(r *rand.Rand) ResultHint {
	return ResultHint{
		AppliedBudgetPolicy: rBelow(r, HintPolicyDrop+1), CongestionState: rBelow(r, CongestionSaturated+1),
		Reason: rBelow(r, HintReasonSuperseded+1), RetryAfterMS: r32(r),
	}
}

func TestResultHintCodec(t *testing.T) { checkMessage(t, ParseResultHint, randomResultHint) }

func TestResultHintRejects(t *testing.T) {
	// Base: vector nnrp-rs.baseline.result_hint_metadata.
	base := ResultHint{AppliedBudgetPolicy: HintPolicyPartial, CongestionState: CongestionElevated,
		Reason: HintReasonServerBusy, RetryAfterMS: 20}
	ctlRejects(t, base, ParseResultHint, []ctlCase[ResultHint]{
		{name: "policy 5", mod: func(m *ResultHint) { m.AppliedBudgetPolicy = 5 }},
		{name: "congestion 4", mod: func(m *ResultHint) { m.CongestionState = 4 }},
		{name: "reason 5", mod: func(m *ResultHint) { m.Reason = 5 }},
		// The vector's note: bytes 8..12 replaced with 99 must be rejected.
		{name: "reason 99 (vector note)", patch: func(b []byte) { ctlPut32(b, 8, 99) }},
		{name: "policy high byte", patch: func(b []byte) { b[3] = 1 }},
	})
}
