package wire

import "encoding/binary"

// CostModel is the cost_model_id registry (C§7.1): the unit in which limits
// and budgets are counted. It is not validated.
type CostModel uint16

// Cost models.
const (
	CostUnspecified    CostModel = 0
	CostBytesOnly      CostModel = 1
	CostComputeUnits   CostModel = 2
	CostTokenUnits     CostModel = 3
	CostMemoryBytes    CostModel = 4
	CostBandwidthBytes CostModel = 5
	CostWeightedUnits  CostModel = 6
)

var costModelNames = []string{
	"unspecified", "bytes_only", "compute_units", "token_units", "memory_bytes",
	"bandwidth_bytes", "weighted_units",
}

func (c CostModel) String() string { return registryName(costModelNames, uint64(c), "cost_model") }

// CapabilityFlags is the flags word of CAPABILITY_NEGOTIATION and
// DEGRADE_PROFILE (C§7.5).
type CapabilityFlags uint32

// Capability flags.
const (
	CapabilityHardRequirement  CapabilityFlags = 0x1
	CapabilityDowngradeAllowed CapabilityFlags = 0x2

	knownCapabilityFlags = CapabilityHardRequirement | CapabilityDowngradeAllowed
)

const capabilityLen = 32

// CapabilityNegotiation is the metadata of CAPABILITY_NEGOTIATION (type 0x3b,
// 32 bytes, C§7.5). DEGRADE_PROFILE shares the layout (DegradeProfile). The
// body holds CapabilityCount entries in BodyBytes bytes; no source defines
// the entry format, so the body is opaque. Session-scoped (frame_id 0); no
// response is mandated.
type CapabilityNegotiation struct {
	ProfileID       ProfileID       `json:"profile_id"`
	CapabilityCount uint16          `json:"capability_count"` // entries in the body
	CostModel       CostModel       `json:"cost_model_id"`
	PreferenceRank  uint16          `json:"preference_rank"` // lower = stronger preference
	LimitBytes      uint64          `json:"limit_bytes"`     // aggregate byte limit
	LimitUnits      uint64          `json:"limit_units"`     // aggregate compute/token limit
	BodyBytes       uint32          `json:"body_bytes"`
	Flags           CapabilityFlags `json:"flags"`
}

// DegradeProfile is the metadata of DEGRADE_PROFILE (type 0x3c, 32 bytes,
// C§7.5, optional): an offer of a cheaper profile. Layout of
// CapabilityNegotiation.
type DegradeProfile CapabilityNegotiation

func (m *CapabilityNegotiation) check(t MessageType) error {
	return checkMask(t, "flags", m.Flags, knownCapabilityFlags)
}

func (m *CapabilityNegotiation) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(m.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, m.CapabilityCount)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.CostModel))
	b = binary.LittleEndian.AppendUint16(b, m.PreferenceRank)
	b = binary.LittleEndian.AppendUint64(b, m.LimitBytes)
	b = binary.LittleEndian.AppendUint64(b, m.LimitUnits)
	b = binary.LittleEndian.AppendUint32(b, m.BodyBytes)
	return binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
}

func parseCapability(t MessageType, b []byte) (CapabilityNegotiation, int, error) {
	if len(b) < capabilityLen {
		return CapabilityNegotiation{}, 0, errShort(t, "metadata", capabilityLen, len(b))
	}
	m := CapabilityNegotiation{
		ProfileID:       ProfileID(binary.LittleEndian.Uint16(b[0:])),
		CapabilityCount: binary.LittleEndian.Uint16(b[2:]),
		CostModel:       CostModel(binary.LittleEndian.Uint16(b[4:])),
		PreferenceRank:  binary.LittleEndian.Uint16(b[6:]),
		LimitBytes:      binary.LittleEndian.Uint64(b[8:]),
		LimitUnits:      binary.LittleEndian.Uint64(b[16:]),
		BodyBytes:       binary.LittleEndian.Uint32(b[24:]),
		Flags:           CapabilityFlags(binary.LittleEndian.Uint32(b[28:])),
	}
	if err := m.check(t); err != nil {
		return CapabilityNegotiation{}, 0, err
	}
	return m, capabilityLen, nil
}

// Type returns TypeCapabilityNegotiation.
func (*CapabilityNegotiation) Type() MessageType { return TypeCapabilityNegotiation }

// Len returns 32.
func (*CapabilityNegotiation) Len() int { return capabilityLen }

// ExpectedBodyLen returns BodyBytes.
func (m *CapabilityNegotiation) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

func (m *CapabilityNegotiation) validate() error { return m.check(TypeCapabilityNegotiation) }

// Append validates m and appends its 32 bytes to b.
func (m *CapabilityNegotiation) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// ParseCapabilityNegotiation decodes and validates CAPABILITY_NEGOTIATION
// metadata from the start of b.
func ParseCapabilityNegotiation(b []byte) (CapabilityNegotiation, int, error) {
	return parseCapability(TypeCapabilityNegotiation, b)
}

// Type returns TypeDegradeProfile.
func (*DegradeProfile) Type() MessageType { return TypeDegradeProfile }

// Len returns 32.
func (*DegradeProfile) Len() int { return capabilityLen }

// ExpectedBodyLen returns BodyBytes.
func (m *DegradeProfile) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

func (m *DegradeProfile) validate() error {
	return (*CapabilityNegotiation)(m).check(TypeDegradeProfile)
}

// Append validates m and appends its 32 bytes to b.
func (m *DegradeProfile) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*CapabilityNegotiation)(m).put(b), nil
}

// ParseDegradeProfile decodes and validates DEGRADE_PROFILE metadata from the
// start of b.
func ParseDegradeProfile(b []byte) (DegradeProfile, int, error) {
	m, n, err := parseCapability(TypeDegradeProfile, b)
	return DegradeProfile(m), n, err
}
