package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseBackpressure)
	registerMessage(ParseCreditUpdate)
}

func randomBackpressure(r *rand.Rand) Backpressure {
	return Backpressure{
		ScopeID: r64(r), CreditWindow: r64(r), Level: PressureSoft + rBelow(r, PressureLevel(3)),
		Reason: PressureReason(r16(r)), RetryAfterMS: r32(r), Flags: rBits(r, knownPressureFlags),
	}
}

func randomCreditUpdate(r *rand.Rand) CreditUpdate {
	m := CreditUpdate(randomBackpressure(r))
	m.Level = PressureLevel(r16(r)) // not validated for CREDIT_UPDATE
	return m
}

func TestBackpressureCodec(t *testing.T) { checkMessage(t, ParseBackpressure, randomBackpressure) }
func TestCreditUpdateCodec(t *testing.T) { checkMessage(t, ParseCreditUpdate, randomCreditUpdate) }

func TestBackpressureRejects(t *testing.T) {
	flags := []rtCase[Backpressure]{
		{"flag 0x4", func(m *Backpressure) { m.Flags |= 0x4 }, func(b []byte) { b[24] |= 0x4 }},
		{"reserved u32", nil, func(b []byte) { b[28] = 1 }},
	}
	base := Backpressure{ScopeID: 1, CreditWindow: 1, Level: PressureHard,
		Reason: PressureReasonReceiverQueueFull, RetryAfterMS: 50, Flags: PressureAppliesToOperation}
	rtRejects(t, base, ParseBackpressure, append(flags,
		rtCase[Backpressure]{"level 0", func(m *Backpressure) { m.Level = PressureNone }, func(b []byte) { rtPut16(b, 16, 0) }},
		rtCase[Backpressure]{"level 4", func(m *Backpressure) { m.Level = 4 }, func(b []byte) { rtPut16(b, 16, 4) }},
	))
	rtRejects(t, CreditUpdate(base), ParseCreditUpdate,
		rtAs(flags, func(m *CreditUpdate) *Backpressure { return (*Backpressure)(m) }))
}

// CREDIT_UPDATE does not validate the level (Rust sends 0).
func TestCreditUpdateAnyLevel(t *testing.T) {
	for _, level := range []PressureLevel{PressureNone, 4, 0xFFFF} {
		m := CreditUpdate{ScopeID: 1, CreditWindow: 8, Level: level}
		b, err := m.Append(nil)
		if err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		if got, _, err := ParseCreditUpdate(b); err != nil || got != m {
			t.Fatalf("level %d: got %+v, %v", level, got, err)
		}
	}
}
