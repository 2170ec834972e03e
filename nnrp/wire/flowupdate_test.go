package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseFlowUpdate) }

func randomFlowUpdate(r *rand.Rand) FlowUpdate {
	m := FlowUpdate{
		Scope: rBelow(r, FlowScopeOperation+1), Reason: rBelow(r, FlowReasonCongestion+1),
		Level: rBelow(r, FlowLevelPaused+1), CreditEpoch: r32(r), Flags: rBits(r, knownFlowFlags),
	}
	switch m.Scope {
	case FlowScopeConnection:
		m.ConnectionCredit = r16(r)
	case FlowScopeSession:
		m.SessionCredit = r16(r)
	case FlowScopeOperation:
		m.ConnectionCredit, m.SessionCredit, m.OperationCredit = r16(r), r16(r), r16(r)
		m.OperationID = r64(r) | 1
	}
	if m.Flags&FlowRetryAfterValid != 0 {
		m.RetryAfterMS = r32(r)
	}
	return m
}

func TestFlowUpdateCodec(t *testing.T) { checkMessage(t, ParseFlowUpdate, randomFlowUpdate) }

func TestFlowUpdateRejects(t *testing.T) {
	session := FlowUpdate{Scope: FlowScopeSession, Reason: FlowReasonCongestion, Level: FlowLevelHard,
		SessionCredit: 2, RetryAfterMS: 120, CreditEpoch: 7, Flags: FlowCreditValid | FlowRetryAfterValid}
	ctlRejects(t, session, ParseFlowUpdate, []ctlCase[FlowUpdate]{
		{name: "reserved byte 3", patch: func(b []byte) { b[3] = 1 }},
		{name: "reserved 10", patch: func(b []byte) { b[10] = 1 }},
		{name: "reserved 11", patch: func(b []byte) { b[11] = 0x80 }},
		{name: "scope 3", mod: func(m *FlowUpdate) { m.Scope = 3 }},
		{name: "reason 5", mod: func(m *FlowUpdate) { m.Reason = 5 }},
		{name: "level 4", mod: func(m *FlowUpdate) { m.Level = 4 }},
		{name: "flags 0x10", mod: func(m *FlowUpdate) { m.Flags = FlowCreditValid | FlowRetryAfterValid | 0x10 }},
		{name: "retry without retry_after_valid", mod: func(m *FlowUpdate) { m.Flags = FlowCreditValid }},
		{name: "session scope, connection credit", mod: func(m *FlowUpdate) { m.ConnectionCredit = 1 }},
		{name: "session scope, operation credit", mod: func(m *FlowUpdate) { m.OperationCredit = 1 }},
		{name: "session scope, operation id", mod: func(m *FlowUpdate) { m.OperationID = 5 }},
	})
	conn := FlowUpdate{Scope: FlowScopeConnection, Level: FlowLevelSoft, ConnectionCredit: 6, CreditEpoch: 11,
		Flags: FlowCreditValid}
	ctlRejects(t, conn, ParseFlowUpdate, []ctlCase[FlowUpdate]{
		{name: "connection scope, session credit", mod: func(m *FlowUpdate) { m.SessionCredit = 1 }},
		{name: "connection scope, operation credit", mod: func(m *FlowUpdate) { m.OperationCredit = 1 }},
		{name: "connection scope, operation id", mod: func(m *FlowUpdate) { m.OperationID = 1 << 63 }},
	})
	// Operation scope: the other credits are not checked, operation_id is required.
	op := FlowUpdate{Scope: FlowScopeOperation, Reason: FlowReasonPause, Level: FlowLevelHard,
		ConnectionCredit: 3, SessionCredit: 4, OperationCredit: 1, OperationID: 0x1234}
	ctlRejects(t, op, ParseFlowUpdate, []ctlCase[FlowUpdate]{
		{name: "operation scope without operation id", mod: func(m *FlowUpdate) { m.OperationID = 0 }},
	})
}

func TestFlowUpdateCheckHeader(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scope FlowScope
		h     Header
		code  ErrorCode // CodeNone: accepted
	}{
		{"connection on session 0", FlowScopeConnection, Header{}, CodeNone},
		{"connection on a session", FlowScopeConnection, Header{SessionID: 3}, CodeInvalidState},
		{"session on session 0", FlowScopeSession, Header{}, CodeInvalidState},
		{"session", FlowScopeSession, Header{SessionID: 3}, CodeNone},
		{"operation on session 0", FlowScopeOperation, Header{}, CodeInvalidState},
		{"operation", FlowScopeOperation, Header{SessionID: 3}, CodeNone},
		{"session with frame", FlowScopeSession, Header{SessionID: 3, FrameID: 1}, CodeMalformedBody},
		{"connection with frame", FlowScopeConnection, Header{FrameID: 1}, CodeMalformedBody},
		{"operation with frame", FlowScopeOperation, Header{SessionID: 3, FrameID: 9}, CodeMalformedBody},
	} {
		m := FlowUpdate{Scope: tc.scope}
		err := m.CheckHeader(&tc.h)
		if tc.code == CodeNone {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		expectReject(t, tc.name, err, tc.code)
	}
}
