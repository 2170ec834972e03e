package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseSessionClose)
	registerMessage(ParseSessionCloseAck)
}

func randomSessionClose(r *rand.Rand) SessionClose {
	return SessionClose{
		Reason: rBelow(r, CloseReasonAuthRevoked+1), InFlightPolicy: rBelow(r, InFlightAbort+1),
		DrainTimeoutMS: r32(r), LastOperationID: r64(r), SessionErrorCode: ErrorCode(r32(r)), SessionCloseTag: r32(r),
	}
}

func randomSessionCloseAck(r *rand.Rand) SessionCloseAck {
	return SessionCloseAck{Status: rBelow(r, CloseStatusRejected+1), LastOperationID: r64(r),
		SessionErrorCode: ErrorCode(r32(r))}
}

func TestSessionCloseCodec(t *testing.T) { checkMessage(t, ParseSessionClose, randomSessionClose) }

func TestSessionCloseAckCodec(t *testing.T) {
	checkMessage(t, ParseSessionCloseAck, randomSessionCloseAck)
}

func TestSessionCloseRejects(t *testing.T) {
	base := SessionClose{Reason: CloseReasonClientShutdown, LastOperationID: 9, SessionCloseTag: 1}
	ctlRejects(t, base, ParseSessionClose, []ctlCase[SessionClose]{
		{name: "reserved byte 3", patch: func(b []byte) { b[3] = 1 }},
		{name: "close_reason 6", mod: func(m *SessionClose) { m.Reason = 6 }},
		{name: "close_reason 0x100", mod: func(m *SessionClose) { m.Reason = 0x100 }},
		{name: "in_flight_policy 2", mod: func(m *SessionClose) { m.InFlightPolicy = 2 }},
	})
}

func TestSessionCloseAckRejects(t *testing.T) {
	base := SessionCloseAck{Status: CloseStatusClosed, LastOperationID: 9}
	ctlRejects(t, base, ParseSessionCloseAck, []ctlCase[SessionCloseAck]{
		{name: "reserved byte 1", patch: func(b []byte) { b[1] = 1 }},
		{name: "reserved byte 2", patch: func(b []byte) { b[2] = 0x10 }},
		{name: "reserved byte 3", patch: func(b []byte) { b[3] = 0x80 }},
		{name: "close_status 4", mod: func(m *SessionCloseAck) { m.Status = 4 }},
	})
}
