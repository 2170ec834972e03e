package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseResultDropReason) }

func randomResultDropReason(r *rand.Rand) ResultDropReason {
	return ResultDropReason{
		OperationID: 1 + rBelow(r, ^uint64(0)), ResultSequence: r64(r),
		Reason: 1 + rBelow(r, DropReason(0xFFFF)), SourceRole: rtRandomRole(r, true),
		Flags: rBits(r, knownResultDropFlags), DiagnosticBytes: r32(r),
	}
}

func TestResultDropReasonCodec(t *testing.T) {
	checkMessage(t, ParseResultDropReason, randomResultDropReason)
}

func TestResultDropReasonRejects(t *testing.T) {
	base := ResultDropReason{OperationID: 1, ResultSequence: 1, Reason: DropDeadlineExpired,
		SourceRole: RoleServer, Flags: ResultDropFinal, DiagnosticBytes: 8}
	rtRejects(t, base, ParseResultDropReason, []rtCase[ResultDropReason]{
		{"operation_id 0", func(m *ResultDropReason) { m.OperationID = 0 }, func(b []byte) { rtPut64(b, 0, 0) }},
		{"drop_reason_code 0", func(m *ResultDropReason) { m.Reason = DropNone }, func(b []byte) { rtPut16(b, 16, 0) }},
		{"reserved role 0x08", func(m *ResultDropReason) { m.SourceRole = 0x08 }, func(b []byte) { b[18] = 0x08 }},
		{"reserved role 0x7f", func(m *ResultDropReason) { m.SourceRole = 0x7F }, func(b []byte) { b[18] = 0x7F }},
		{"flag 0x04", func(m *ResultDropReason) { m.Flags |= 0x04 }, func(b []byte) { b[19] |= 0x04 }},
		{"reserved u64", nil, func(b []byte) { b[24] = 1 }},
	})
}
