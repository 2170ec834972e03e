package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseSupersede) }

func randomSupersede(r *rand.Rand) Supersede {
	return Supersede{
		OldOperationID: r64(r), NewOperationID: r64(r), ControlSequence: r64(r),
		Reason: DropReason(r16(r)), Flags: rBits(r, knownSupersedeFlags), DiagnosticBytes: r32(r),
	}
}

func TestSupersedeCodec(t *testing.T) { checkMessage(t, ParseSupersede, randomSupersede) }

func TestSupersedeRejects(t *testing.T) {
	base := Supersede{OldOperationID: 1, NewOperationID: 2, ControlSequence: 3,
		Reason: DropSuperseded, Flags: SupersedeAbortOld}
	rtRejects(t, base, ParseSupersede, []rtCase[Supersede]{
		{"flag 0x0002", func(m *Supersede) { m.Flags |= 0x0002 }, func(b []byte) { b[26] |= 0x02 }},
		{"flag 0x8000", func(m *Supersede) { m.Flags = 0x8000 }, func(b []byte) { rtPut16(b, 26, 0x8000) }},
	})
}
