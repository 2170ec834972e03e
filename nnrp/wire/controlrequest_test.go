package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseCancel)
	registerMessage(ParseAbort)
}

func randomCancel(r *rand.Rand) Cancel {
	return Cancel{
		OperationID: r64(r), ControlSequence: r64(r), Reason: ReasonCode(r16(r)),
		SourceRole: rtRandomRole(r, true), Flags: rBits(r, knownControlRequestFlags),
		DiagnosticBytes: r32(r),
	}
}

func randomAbort(r *rand.Rand) Abort { return Abort(randomCancel(r)) }

func TestCancelCodec(t *testing.T) { checkMessage(t, ParseCancel, randomCancel) }
func TestAbortCodec(t *testing.T)  { checkMessage(t, ParseAbort, randomAbort) }

// controlRequestRules are the validation rules of the CANCEL/ABORT layout
// (C§7.2).
var controlRequestRules = []rtCase[Cancel]{
	{"reserved role 0x08", func(m *Cancel) { m.SourceRole = 0x08 }, func(b []byte) { b[18] = 0x08 }},
	{"reserved role 0x7f", func(m *Cancel) { m.SourceRole = 0x7F }, func(b []byte) { b[18] = 0x7F }},
	{"flag 0x04", func(m *Cancel) { m.Flags |= 0x04 }, func(b []byte) { b[19] |= 0x04 }},
	{"flag 0x80", func(m *Cancel) { m.Flags = 0x80 }, func(b []byte) { b[19] = 0x80 }},
	{"reserved u64", nil, func(b []byte) { b[31] = 1 }},
}

func TestCancelRejects(t *testing.T) {
	base := Cancel{OperationID: 101, ControlSequence: 101, Reason: ReasonUserCancelled,
		SourceRole: RoleClient, Flags: CooperativeAllowed, DiagnosticBytes: 4}
	rtRejects(t, base, ParseCancel, controlRequestRules)
	rtRejects(t, Abort(base), ParseAbort, rtAs(controlRequestRules, func(m *Abort) *Cancel { return (*Cancel)(m) }))
}

func TestCancelAcceptsPrivateRolesAndReasons(t *testing.T) {
	for _, role := range []Role{0x80, 0xFF} {
		m := Cancel{SourceRole: role, Reason: 0xFFFF}
		b, err := m.Append(nil)
		if err != nil {
			t.Fatalf("role 0x%02x: %v", uint8(role), err)
		}
		if _, _, err := ParseAbort(b); err != nil {
			t.Fatalf("role 0x%02x: %v", uint8(role), err)
		}
	}
}
