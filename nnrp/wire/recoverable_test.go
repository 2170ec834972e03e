package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseErrorRecoverable)
	registerMessage(ParseRetryAfter)
}

func randomErrorRecoverable(r *rand.Rand) ErrorRecoverable {
	return ErrorRecoverable{
		Code: ErrorCode(r32(r)), Scope: rBelow(r, ScopeFrame+1), RecoveryAction: ReasonCode(r16(r)),
		SourceRole: Role(r8(r)), Flags: rBits(r, knownRecoverableFlags), RetryAfterMS: r32(r),
		RelatedSessionID: r32(r), RelatedFrameID: r32(r), RelatedViewID: r32(r), DiagnosticBytes: r32(r),
	}
}

func randomRetryAfter(r *rand.Rand) RetryAfter {
	return RetryAfter{
		ScopeID: r64(r), ControlSequence: r64(r), RetryAfterMS: r32(r), JitterMS: r32(r),
		Reason: ReasonCode(r16(r)), SourceRole: Role(r8(r)), Flags: rBits(r, knownRetryAfterFlags),
		DiagnosticBytes: r32(r),
	}
}

func TestErrorRecoverableCodec(t *testing.T) {
	checkMessage(t, ParseErrorRecoverable, randomErrorRecoverable)
}
func TestRetryAfterCodec(t *testing.T) { checkMessage(t, ParseRetryAfter, randomRetryAfter) }

func TestErrorRecoverableRejects(t *testing.T) {
	base := ErrorRecoverable{Code: CodeServerBusy, Scope: ScopeFrame, RecoveryAction: ReasonBudgetExceeded,
		SourceRole: RoleServer, Flags: RecoverableRetryAfterRequired, RetryAfterMS: 100,
		RelatedSessionID: 1, RelatedFrameID: 2}
	rtRejects(t, base, ParseErrorRecoverable, []rtCase[ErrorRecoverable]{
		{"error_scope 3", func(m *ErrorRecoverable) { m.Scope = 3 }, func(b []byte) { rtPut32(b, 4, 3) }},
		{"error_scope 0x100", func(m *ErrorRecoverable) { m.Scope = 0x100 }, func(b []byte) { rtPut32(b, 4, 0x100) }},
		{"flag 0x04", func(m *ErrorRecoverable) { m.Flags |= 0x04 }, func(b []byte) { b[11] |= 0x04 }},
	})
}

func TestRetryAfterRejects(t *testing.T) {
	base := RetryAfter{ScopeID: 1, ControlSequence: 9, RetryAfterMS: 250, JitterMS: 50,
		Reason: ReasonShutdown, SourceRole: RoleServer, Flags: RetryAppliesToOperation}
	rtRejects(t, base, ParseRetryAfter, []rtCase[RetryAfter]{
		{"flag 0x04", func(m *RetryAfter) { m.Flags |= 0x04 }, func(b []byte) { b[27] |= 0x04 }},
		{"flag 0x80", func(m *RetryAfter) { m.Flags = 0x80 }, func(b []byte) { b[27] = 0x80 }},
	})
}
