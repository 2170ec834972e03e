package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParsePriorityUpdate)
	registerMessage(ParseDeadline)
	registerMessage(ParseExpireAt)
}

func randomPriorityUpdate(r *rand.Rand) PriorityUpdate {
	return PriorityUpdate{
		OperationID: r64(r), ControlSequence: r64(r), PriorityClass: r16(r),
		PriorityDelta: int16(r16(r)), DeadlineUnixMS: r64(r) >> r.UintN(65),
		Flags: rBits(r, knownSchedulingFlags),
	}
}

func randomDeadline(r *rand.Rand) Deadline {
	m := Deadline(randomPriorityUpdate(r))
	m.DeadlineUnixMS = 1 + rBelow(r, ^uint64(0))
	return m
}

func randomExpireAt(r *rand.Rand) ExpireAt { return ExpireAt(randomDeadline(r)) }

func TestPriorityUpdateCodec(t *testing.T) {
	checkMessage(t, ParsePriorityUpdate, randomPriorityUpdate)
}
func TestDeadlineCodec(t *testing.T) { checkMessage(t, ParseDeadline, randomDeadline) }
func TestExpireAtCodec(t *testing.T) { checkMessage(t, ParseExpireAt, randomExpireAt) }

func TestPriorityUpdateRejects(t *testing.T) {
	flags := []rtCase[PriorityUpdate]{
		{"flag 0x4", func(m *PriorityUpdate) { m.Flags |= 0x4 }, func(b []byte) { b[28] |= 0x4 }},
		{"flag 0x80000000", func(m *PriorityUpdate) { m.Flags = 0x80000000 }, func(b []byte) { b[31] = 0x80 }},
	}
	base := PriorityUpdate{OperationID: 201, ControlSequence: 201, PriorityClass: 10, PriorityDelta: -3,
		DeadlineUnixMS: 1, Flags: ScheduleDiscardStale | ScheduleEmitDropReason}
	rtRejects(t, base, ParsePriorityUpdate, flags)

	withDeadline := append(flags, rtCase[PriorityUpdate]{"deadline_unix_ms 0",
		func(m *PriorityUpdate) { m.DeadlineUnixMS = 0 }, func(b []byte) { rtPut64(b, 20, 0) }})
	rtRejects(t, Deadline(base), ParseDeadline,
		rtAs(withDeadline, func(m *Deadline) *PriorityUpdate { return (*PriorityUpdate)(m) }))
	rtRejects(t, ExpireAt(base), ParseExpireAt,
		rtAs(withDeadline, func(m *ExpireAt) *PriorityUpdate { return (*PriorityUpdate)(m) }))
}

// PRIORITY_UPDATE does not need a deadline, and its class is not the session
// priority enum (the conformance suite sends 10).
func TestPriorityUpdateWithoutDeadline(t *testing.T) {
	m := PriorityUpdate{OperationID: 1, PriorityClass: 10, PriorityDelta: -32768}
	b, err := m.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := ParsePriorityUpdate(b)
	if err != nil || got != m {
		t.Fatalf("got %+v, %v; want %+v", got, err, m)
	}
}
