package wire

import "encoding/binary"

// FlowScope is FLOW_UPDATE.scope_kind (C§6.1).
type FlowScope uint8

// Flow scopes.
const (
	FlowScopeConnection FlowScope = 0
	FlowScopeSession    FlowScope = 1
	FlowScopeOperation  FlowScope = 2
)

var flowScopeNames = []string{"connection", "session", "operation"}

func (s FlowScope) String() string { return ctlEnumName(flowScopeNames, uint64(s), "scope_kind") }

// FlowReason is FLOW_UPDATE.update_reason (C§6.1).
type FlowReason uint8

// Flow update reasons.
const (
	FlowReasonGrant      FlowReason = 0
	FlowReasonReduce     FlowReason = 1
	FlowReasonPause      FlowReason = 2
	FlowReasonResume     FlowReason = 3
	FlowReasonCongestion FlowReason = 4
)

var flowReasonNames = []string{"grant", "reduce", "pause", "resume", "congestion"}

func (r FlowReason) String() string { return ctlEnumName(flowReasonNames, uint64(r), "update_reason") }

// FlowLevel is FLOW_UPDATE.backpressure_level (C§6.1). Paused (3) is
// accepted by Rust/JS HEAD although older design text stops at hard.
type FlowLevel uint8

// Backpressure levels.
const (
	FlowLevelNone   FlowLevel = 0
	FlowLevelSoft   FlowLevel = 1 // slow down
	FlowLevelHard   FlowLevel = 2 // start no new operations in the scope
	FlowLevelPaused FlowLevel = 3
)

var flowLevelNames = []string{"none", "soft", "hard", "paused"}

func (l FlowLevel) String() string {
	return ctlEnumName(flowLevelNames, uint64(l), "backpressure_level")
}

// FlowFlags is FLOW_UPDATE.flow_flags (C§6.1).
type FlowFlags uint32

// Flow flag bits.
const (
	FlowCreditValid       FlowFlags = 0x1 // the scope's credit field is meaningful
	FlowRetryAfterValid   FlowFlags = 0x2 // required when retry_after_ms != 0
	FlowBackgroundOnly    FlowFlags = 0x4
	FlowDrainInFlightOnly FlowFlags = 0x8

	knownFlowFlags FlowFlags = 0x0F
)

const flowUpdateLen = 32

// FlowUpdate is the metadata of FLOW_UPDATE (type 0x17, 32 bytes, C§6.1).
// Credits are absolute windows of in-flight operations; only the credit of
// Scope counts, and only with FlowCreditValid. No body.
type FlowUpdate struct {
	Scope            FlowScope  `json:"scope_kind"`
	Reason           FlowReason `json:"update_reason"`
	Level            FlowLevel  `json:"backpressure_level"`
	ConnectionCredit uint16     `json:"connection_credit"` // connection scope only
	SessionCredit    uint16     `json:"session_credit"`    // session scope only
	OperationCredit  uint16     `json:"operation_credit"`  // operation scope
	OperationID      uint64     `json:"operation_id"`      // non-zero exactly for operation scope
	RetryAfterMS     uint32     `json:"retry_after_ms"`
	CreditEpoch      uint32     `json:"credit_epoch"` // monotonic per scope
	Flags            FlowFlags  `json:"flow_flags"`
}

// Type returns TypeFlowUpdate.
func (*FlowUpdate) Type() MessageType { return TypeFlowUpdate }

// Len returns 32.
func (*FlowUpdate) Len() int { return flowUpdateLen }

// ExpectedBodyLen returns 0: FLOW_UPDATE has no body.
func (*FlowUpdate) ExpectedBodyLen() (uint64, bool) { return 0, true }

// validate applies the enum and mask rules and the routing rules of the C§6.1
// table that need no header: connection scope carries only
// connection_credit, session scope only session_credit, and operation_id is
// non-zero exactly for operation scope (whose other credits are not
// checked).
func (m *FlowUpdate) validate() error {
	const t = TypeFlowUpdate
	if err := firstErr(
		checkMax(t, "scope_kind", m.Scope, FlowScopeOperation),
		checkMax(t, "update_reason", m.Reason, FlowReasonCongestion),
		checkMax(t, "backpressure_level", m.Level, FlowLevelPaused),
		checkMask(t, "flow_flags", m.Flags, knownFlowFlags),
	); err != nil {
		return err
	}
	switch m.Scope {
	case FlowScopeConnection:
		if err := firstErr(
			m.unused("session_credit", uint64(m.SessionCredit)),
			m.unused("operation_credit", uint64(m.OperationCredit)),
			m.unused("operation_id", m.OperationID),
		); err != nil {
			return err
		}
	case FlowScopeSession:
		if err := firstErr(
			m.unused("connection_credit", uint64(m.ConnectionCredit)),
			m.unused("operation_credit", uint64(m.OperationCredit)),
			m.unused("operation_id", m.OperationID),
		); err != nil {
			return err
		}
	case FlowScopeOperation:
		if err := checkNonZero(t, "operation_id", m.OperationID); err != nil {
			return err
		}
	}
	if m.RetryAfterMS != 0 && m.Flags&FlowRetryAfterValid == 0 {
		return errInvalid(t, "flow_flags", "retry_after_ms %d without retry_after_valid", m.RetryAfterMS)
	}
	return nil
}

// unused rejects a non-zero field that m's scope does not use.
func (m *FlowUpdate) unused(field string, v uint64) error {
	if v != 0 {
		return errInvalid(TypeFlowUpdate, field, "is %d, must be 0 for %s scope", v, m.Scope)
	}
	return nil
}

// CheckHeader applies the header routing rules of C§6.1: header session_id
// is 0 exactly for connection scope (else invalid_state) and frame_id is 0.
// Whether the session is live is for the session layer.
func (m *FlowUpdate) CheckHeader(h *Header) error {
	if m.Scope == FlowScopeConnection {
		return ctlConnectionScope(TypeFlowUpdate, h)
	}
	return ctlSessionScope(TypeFlowUpdate, h, true)
}

// Append validates m and appends its 32 bytes to b.
func (m *FlowUpdate) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *FlowUpdate) put(b []byte) []byte {
	b = append(b, byte(m.Scope), byte(m.Reason), byte(m.Level), 0) // byte 3 reserved
	b = binary.LittleEndian.AppendUint16(b, m.ConnectionCredit)
	b = binary.LittleEndian.AppendUint16(b, m.SessionCredit)
	b = binary.LittleEndian.AppendUint16(b, m.OperationCredit)
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint32(b, m.RetryAfterMS)
	b = binary.LittleEndian.AppendUint32(b, m.CreditEpoch)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return b
}

// ParseFlowUpdate decodes and validates FLOW_UPDATE metadata from the start
// of b.
func ParseFlowUpdate(b []byte) (FlowUpdate, int, error) {
	if len(b) < flowUpdateLen {
		return FlowUpdate{}, 0, errShort(TypeFlowUpdate, "metadata", flowUpdateLen, len(b))
	}
	m := FlowUpdate{
		Scope:            FlowScope(b[0]),
		Reason:           FlowReason(b[1]),
		Level:            FlowLevel(b[2]),
		ConnectionCredit: binary.LittleEndian.Uint16(b[4:]),
		SessionCredit:    binary.LittleEndian.Uint16(b[6:]),
		OperationCredit:  binary.LittleEndian.Uint16(b[8:]),
		OperationID:      binary.LittleEndian.Uint64(b[12:]),
		RetryAfterMS:     binary.LittleEndian.Uint32(b[20:]),
		CreditEpoch:      binary.LittleEndian.Uint32(b[24:]),
		Flags:            FlowFlags(binary.LittleEndian.Uint32(b[28:])),
	}
	if err := firstErr(
		checkZero(TypeFlowUpdate, "reserved", b[3]),
		checkZero(TypeFlowUpdate, "reserved", binary.LittleEndian.Uint16(b[10:])),
	); err != nil {
		return FlowUpdate{}, 0, err
	}
	if err := m.validate(); err != nil {
		return FlowUpdate{}, 0, err
	}
	return m, flowUpdateLen, nil
}
