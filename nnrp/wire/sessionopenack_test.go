package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseSessionOpenAck) }

func randomSessionOpenAck(r *rand.Rand) SessionOpenAck {
	return SessionOpenAck{
		SessionID: r32(r), AcceptedProfileID: ProfileID(r16(r)), AcceptedPriorityClass: rBelow(r, PriorityBackground+1),
		Status: rBelow(r, SessionResumed+1), SchemaID: r32(r), SchemaVersion: r32(r),
		GrantedOperationCredit: r16(r), MaxInFlightOperations: r16(r), LeaseTTLMS: r32(r), ResumeWindowMS: r32(r),
		ResumeTokenBytes: r32(r), SessionExtensionBytes: r32(r), ServerSessionTag: r64(r), RouteScopeID: r32(r),
		SessionErrorCode: ErrorCode(r32(r)), Flags: rBits(r, knownSessionAckFlags),
	}
}

func TestSessionOpenAckCodec(t *testing.T) {
	checkMessage(t, ParseSessionOpenAck, randomSessionOpenAck)
}

// rustSessionOpenAck is the default Rust server's answer to validSessionOpen
// on a fresh server (C§4.4).
var rustSessionOpenAck = SessionOpenAck{SessionID: 1, AcceptedProfileID: ProfileToken,
	AcceptedPriorityClass: PriorityBalanced, SchemaID: 0x1001, SchemaVersion: 3, GrantedOperationCredit: 2,
	MaxInFlightOperations: 4, LeaseTTLMS: 30000, ResumeWindowMS: 120000, ServerSessionTag: 1}

func TestSessionOpenAckRejects(t *testing.T) {
	ctlRejects(t, rustSessionOpenAck, ParseSessionOpenAck, []ctlCase[SessionOpenAck]{
		{name: "priority 3", mod: func(m *SessionOpenAck) { m.AcceptedPriorityClass = 3 }},
		{name: "status 4", mod: func(m *SessionOpenAck) { m.Status = 4 }},
		{name: "flags 0x20", mod: func(m *SessionOpenAck) { m.Flags = 0x20 }},
		{name: "flags bit 31", mod: func(m *SessionOpenAck) { m.Flags = SessionResumeEnabled | 1<<31 }},
	})
}

func TestSessionOpenAckSplitBody(t *testing.T) {
	m := SessionOpenAck{ResumeTokenBytes: 2, SessionExtensionBytes: 3}
	token, ext, err := m.SplitBody([]byte("ttxyz"))
	if err != nil || string(token) != "tt" || string(ext) != "xyz" || cap(token) != 2 {
		t.Fatalf("SplitBody = %q %q %v", token, ext, err)
	}
	_, _, err = m.SplitBody([]byte("ttxy"))
	expectReject(t, "short body", err, CodeMalformedBody)
}

func TestSessionOpenAckCheckForRequest(t *testing.T) {
	resumeReq := SessionOpen{RequestedSessionID: 42, Flags: SessionAllowResume, ResumeTokenBytes: 24}
	resumed := SessionOpenAck{SessionID: 42, Status: SessionResumed, ResumeWindowMS: 60000,
		ResumeTokenBytes: 24, Flags: SessionResumeEnabled}
	rejected := SessionOpenAck{Status: SessionRejected, SessionExtensionBytes: 32,
		SessionErrorCode: SessionProfileUnsupported}
	for _, tc := range []struct {
		name string
		ack  SessionOpenAck
		req  SessionOpen
	}{
		{"rust default", rustSessionOpenAck, validSessionOpen},
		{"resumed", resumed, resumeReq},
		{"rejected", rejected, validSessionOpen},
		{"retry later", SessionOpenAck{Status: SessionRetryLater, SessionErrorCode: SessionLimitReached}, validSessionOpen},
		{"downgrade", SessionOpenAck{SessionID: 3, Flags: SessionPriorityDowngraded}, validSessionOpen},
	} {
		if err := tc.ack.CheckForRequest(&tc.req); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		ack  SessionOpenAck
		mod  func(a *SessionOpenAck)
		req  SessionOpen
	}{
		{"opened without id", rustSessionOpenAck, func(a *SessionOpenAck) { a.SessionID = 0 }, validSessionOpen},
		{"resumed without id", resumed, func(a *SessionOpenAck) { a.SessionID = 0 }, resumeReq},
		{"opened with extension", rustSessionOpenAck, func(a *SessionOpenAck) { a.SessionExtensionBytes = 4 }, validSessionOpen},
		{"rejected with id", rejected, func(a *SessionOpenAck) { a.SessionID = 42 }, validSessionOpen},
		{"retry_later with id", rejected, func(a *SessionOpenAck) { a.Status, a.SessionID = SessionRetryLater, 7 }, validSessionOpen},
		{"resume without window", resumed, func(a *SessionOpenAck) { a.ResumeWindowMS = 0 }, resumeReq},
		{"resume without token", resumed, func(a *SessionOpenAck) { a.ResumeTokenBytes = 0 }, resumeReq},
		{"resumed unasked", resumed, nil, SessionOpen{RequestedSessionID: 42, Flags: SessionAllowResume}},
		{"resumed with error", resumed, func(a *SessionOpenAck) { a.SessionErrorCode = SessionResumeRejected }, resumeReq},
		{"resumed without resume_enabled", resumed, func(a *SessionOpenAck) {
			a.Flags, a.ResumeWindowMS, a.ResumeTokenBytes = 0, 0, 0
		}, resumeReq},
		{"flag not requested", rustSessionOpenAck, func(a *SessionOpenAck) { a.Flags = SessionCacheLeasesEnabled }, validSessionOpen},
	} {
		a := tc.ack
		if tc.mod != nil {
			tc.mod(&a)
		}
		if _, err := a.Append(nil); err != nil {
			t.Fatalf("%s: the request rules must not be part of Append: %v", tc.name, err)
		}
		expectReject(t, tc.name, a.CheckForRequest(&tc.req), CodeMalformedBody)
	}
}
