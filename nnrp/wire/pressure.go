package wire

import "encoding/binary"

// PressureLevel is BACKPRESSURE/CREDIT_UPDATE.pressure_level (C§6.3).
type PressureLevel uint16

// Pressure levels. BACKPRESSURE requires Soft, Hard or Paused.
const (
	PressureNone   PressureLevel = 0
	PressureSoft   PressureLevel = 1
	PressureHard   PressureLevel = 2
	PressurePaused PressureLevel = 3
)

var pressureLevelNames = []string{"none", "soft", "hard", "paused"}

func (l PressureLevel) String() string {
	return registryName(pressureLevelNames, uint64(l), "pressure_level")
}

// PressureReason is BACKPRESSURE/CREDIT_UPDATE.pressure_reason (C§6.3). It is
// not validated; 0x8000–0xFFFF are private.
type PressureReason uint16

// Pressure reasons.
const (
	PressureReasonUnspecified          PressureReason = 0
	PressureReasonReceiverQueueFull    PressureReason = 1
	PressureReasonSenderQueueFull      PressureReason = 2
	PressureReasonMemory               PressureReason = 3
	PressureReasonBandwidth            PressureReason = 4
	PressureReasonCompute              PressureReason = 5
	PressureReasonDeadline             PressureReason = 6
	PressureReasonFairnessPolicy       PressureReason = 7
	PressureReasonConformanceInjection PressureReason = 8
)

var pressureReasonNames = []string{
	"unspecified", "receiver_queue_full", "sender_queue_full", "memory_pressure",
	"bandwidth_pressure", "compute_pressure", "deadline_pressure", "fairness_policy",
	"conformance_injection",
}

func (r PressureReason) String() string {
	return registryName(pressureReasonNames, uint64(r), "pressure_reason")
}

// PressureFlags is the flags word of BACKPRESSURE and CREDIT_UPDATE (C§6.3).
// With neither bit set the message applies to the session.
type PressureFlags uint32

// Pressure flags.
const (
	PressureAppliesToConnection PressureFlags = 0x1
	PressureAppliesToOperation  PressureFlags = 0x2

	knownPressureFlags = PressureAppliesToConnection | PressureAppliesToOperation
)

const pressureLen = 32

// Backpressure is the metadata of BACKPRESSURE (type 0x39, 32 bytes, C§6.3).
// CREDIT_UPDATE shares the layout (CreditUpdate). The body is empty; the
// header carries the session, frame_id 0. Credits are advisory for the
// reference peers: a server must enforce its own limits.
type Backpressure struct {
	ScopeID      uint64         `json:"scope_id"`      // session or operation scope
	CreditWindow uint64         `json:"credit_window"` // new send window for the scope
	Level        PressureLevel  `json:"pressure_level"`
	Reason       PressureReason `json:"pressure_reason"`
	RetryAfterMS uint32         `json:"retry_after_ms"` // wait before sending more
	Flags        PressureFlags  `json:"flags"`
}

// CreditUpdate is the metadata of CREDIT_UPDATE (type 0x3a, 32 bytes, C§6.3):
// CreditWindow is the new send window. Layout of Backpressure; the level is
// not validated (senders write PressureNone).
type CreditUpdate Backpressure

func (m *Backpressure) check(t MessageType) error {
	var level error
	if t == TypeBackpressure && (m.Level < PressureSoft || m.Level > PressurePaused) {
		level = errInvalid(t, "pressure_level", "%d, BACKPRESSURE requires 1 (soft) to 3 (paused)", m.Level)
	}
	return firstErr(
		level,
		checkMask(t, "flags", m.Flags, knownPressureFlags),
	)
}

func (m *Backpressure) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, m.ScopeID)
	b = binary.LittleEndian.AppendUint64(b, m.CreditWindow)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Level))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return binary.LittleEndian.AppendUint32(b, 0) // reserved
}

func parsePressure(t MessageType, b []byte) (Backpressure, int, error) {
	if len(b) < pressureLen {
		return Backpressure{}, 0, errShort(t, "metadata", pressureLen, len(b))
	}
	m := Backpressure{
		ScopeID:      binary.LittleEndian.Uint64(b[0:]),
		CreditWindow: binary.LittleEndian.Uint64(b[8:]),
		Level:        PressureLevel(binary.LittleEndian.Uint16(b[16:])),
		Reason:       PressureReason(binary.LittleEndian.Uint16(b[18:])),
		RetryAfterMS: binary.LittleEndian.Uint32(b[20:]),
		Flags:        PressureFlags(binary.LittleEndian.Uint32(b[24:])),
	}
	if err := firstErr(
		m.check(t),
		checkZero(t, "reserved", binary.LittleEndian.Uint32(b[28:])),
	); err != nil {
		return Backpressure{}, 0, err
	}
	return m, pressureLen, nil
}

// Type returns TypeBackpressure.
func (*Backpressure) Type() MessageType { return TypeBackpressure }

// Len returns 32.
func (*Backpressure) Len() int { return pressureLen }

// ExpectedBodyLen returns 0: the body is empty.
func (*Backpressure) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *Backpressure) validate() error { return m.check(TypeBackpressure) }

// Append validates m and appends its 32 bytes to b.
func (m *Backpressure) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// ParseBackpressure decodes and validates BACKPRESSURE metadata from the
// start of b.
func ParseBackpressure(b []byte) (Backpressure, int, error) {
	return parsePressure(TypeBackpressure, b)
}

// Type returns TypeCreditUpdate.
func (*CreditUpdate) Type() MessageType { return TypeCreditUpdate }

// Len returns 32.
func (*CreditUpdate) Len() int { return pressureLen }

// ExpectedBodyLen returns 0: the body is empty.
func (*CreditUpdate) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *CreditUpdate) validate() error { return (*Backpressure)(m).check(TypeCreditUpdate) }

// Append validates m and appends its 32 bytes to b.
func (m *CreditUpdate) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*Backpressure)(m).put(b), nil
}

// ParseCreditUpdate decodes and validates CREDIT_UPDATE metadata from the
// start of b.
func ParseCreditUpdate(b []byte) (CreditUpdate, int, error) {
	m, n, err := parsePressure(TypeCreditUpdate, b)
	return CreditUpdate(m), n, err
}
