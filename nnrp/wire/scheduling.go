package wire

import "encoding/binary"

// SchedulingFlags is the flags word of PRIORITY_UPDATE, DEADLINE and
// EXPIRE_AT (C§7.3).
type SchedulingFlags uint32

// Scheduling flags. With both set on an EXPIRE_AT, a result whose expire-at
// has passed is discarded and reported with RESULT_DROP_REASON instead.
const (
	ScheduleDiscardStale   SchedulingFlags = 0x1
	ScheduleEmitDropReason SchedulingFlags = 0x2

	knownSchedulingFlags = ScheduleDiscardStale | ScheduleEmitDropReason
)

const schedulingLen = 32

// PriorityUpdate is the metadata of PRIORITY_UPDATE (type 0x32, 32 bytes,
// C§7.3). DEADLINE and EXPIRE_AT share the layout (Deadline, ExpireAt). The
// body is empty.
type PriorityUpdate struct {
	// OperationID is the target operation; the header frame_id must match
	// it (CheckOperationFrame).
	OperationID     uint64 `json:"operation_id"`
	ControlSequence uint64 `json:"control_sequence"` // monotonic per sender
	// PriorityClass is the new class. It is not restricted to the session
	// PriorityClass enum: the conformance suite sends 10.
	PriorityClass uint16 `json:"priority_class"`
	PriorityDelta int16  `json:"priority_delta"` // signed relative adjustment
	// DeadlineUnixMS is an absolute Unix time in milliseconds; required
	// (non-zero) for DEADLINE and EXPIRE_AT, where 1 means "already
	// expired".
	DeadlineUnixMS uint64          `json:"deadline_unix_ms"`
	Flags          SchedulingFlags `json:"flags"`
}

// Deadline is the metadata of DEADLINE (type 0x33, 32 bytes, C§7.3): it
// records an absolute deadline for an operation. A DEADLINE may arrive before
// the FRAME_SUBMIT of its operation. Layout of PriorityUpdate.
type Deadline PriorityUpdate

// ExpireAt is the metadata of EXPIRE_AT (type 0x34, 32 bytes, C§7.3): it arms
// the stale-result check of an operation. Layout of PriorityUpdate.
type ExpireAt PriorityUpdate

func (m *PriorityUpdate) check(t MessageType) error {
	var deadline error
	if t != TypePriorityUpdate {
		deadline = checkNonZero(t, "deadline_unix_ms", m.DeadlineUnixMS)
	}
	return firstErr(
		deadline,
		checkMask(t, "flags", m.Flags, knownSchedulingFlags),
	)
}

func (m *PriorityUpdate) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ControlSequence)
	b = binary.LittleEndian.AppendUint16(b, m.PriorityClass)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.PriorityDelta))
	b = binary.LittleEndian.AppendUint64(b, m.DeadlineUnixMS)
	return binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
}

func parseScheduling(t MessageType, b []byte) (PriorityUpdate, int, error) {
	if len(b) < schedulingLen {
		return PriorityUpdate{}, 0, errShort(t, "metadata", schedulingLen, len(b))
	}
	m := PriorityUpdate{
		OperationID:     binary.LittleEndian.Uint64(b[0:]),
		ControlSequence: binary.LittleEndian.Uint64(b[8:]),
		PriorityClass:   binary.LittleEndian.Uint16(b[16:]),
		PriorityDelta:   int16(binary.LittleEndian.Uint16(b[18:])),
		DeadlineUnixMS:  binary.LittleEndian.Uint64(b[20:]),
		Flags:           SchedulingFlags(binary.LittleEndian.Uint32(b[28:])),
	}
	if err := m.check(t); err != nil {
		return PriorityUpdate{}, 0, err
	}
	return m, schedulingLen, nil
}

// Type returns TypePriorityUpdate.
func (*PriorityUpdate) Type() MessageType { return TypePriorityUpdate }

// Len returns 32.
func (*PriorityUpdate) Len() int { return schedulingLen }

// ExpectedBodyLen returns 0: the body is empty.
func (*PriorityUpdate) ExpectedBodyLen() (uint64, bool) { return 0, true }

// CorrelatedOperation returns OperationID.
func (m *PriorityUpdate) CorrelatedOperation() uint64 { return m.OperationID }

func (m *PriorityUpdate) validate() error { return m.check(TypePriorityUpdate) }

// Append validates m and appends its 32 bytes to b.
func (m *PriorityUpdate) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// ParsePriorityUpdate decodes and validates PRIORITY_UPDATE metadata from the
// start of b.
func ParsePriorityUpdate(b []byte) (PriorityUpdate, int, error) {
	return parseScheduling(TypePriorityUpdate, b)
}

// Type returns TypeDeadline.
func (*Deadline) Type() MessageType { return TypeDeadline }

// Len returns 32.
func (*Deadline) Len() int { return schedulingLen }

// ExpectedBodyLen returns 0: the body is empty.
func (*Deadline) ExpectedBodyLen() (uint64, bool) { return 0, true }

// CorrelatedOperation returns OperationID.
func (m *Deadline) CorrelatedOperation() uint64 { return m.OperationID }

func (m *Deadline) validate() error { return (*PriorityUpdate)(m).check(TypeDeadline) }

// Append validates m and appends its 32 bytes to b.
func (m *Deadline) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*PriorityUpdate)(m).put(b), nil
}

// ParseDeadline decodes and validates DEADLINE metadata from the start of b.
func ParseDeadline(b []byte) (Deadline, int, error) {
	m, n, err := parseScheduling(TypeDeadline, b)
	return Deadline(m), n, err
}

// Type returns TypeExpireAt.
func (*ExpireAt) Type() MessageType { return TypeExpireAt }

// Len returns 32.
func (*ExpireAt) Len() int { return schedulingLen }

// ExpectedBodyLen returns 0: the body is empty.
func (*ExpireAt) ExpectedBodyLen() (uint64, bool) { return 0, true }

// CorrelatedOperation returns OperationID.
func (m *ExpireAt) CorrelatedOperation() uint64 { return m.OperationID }

func (m *ExpireAt) validate() error { return (*PriorityUpdate)(m).check(TypeExpireAt) }

// Append validates m and appends its 32 bytes to b.
func (m *ExpireAt) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*PriorityUpdate)(m).put(b), nil
}

// ParseExpireAt decodes and validates EXPIRE_AT metadata from the start of b.
func ParseExpireAt(b []byte) (ExpireAt, int, error) {
	m, n, err := parseScheduling(TypeExpireAt, b)
	return ExpireAt(m), n, err
}
