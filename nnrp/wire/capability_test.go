package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseCapabilityNegotiation)
	registerMessage(ParseDegradeProfile)
}

func randomCapabilityNegotiation(r *rand.Rand) CapabilityNegotiation {
	return CapabilityNegotiation{
		ProfileID: ProfileID(r16(r)), CapabilityCount: r16(r), CostModel: CostModel(r16(r)),
		PreferenceRank: r16(r), LimitBytes: r64(r), LimitUnits: r64(r), BodyBytes: r32(r),
		Flags: rBits(r, knownCapabilityFlags),
	}
}

func randomDegradeProfile(r *rand.Rand) DegradeProfile {
	return DegradeProfile(randomCapabilityNegotiation(r))
}

func TestCapabilityNegotiationCodec(t *testing.T) {
	checkMessage(t, ParseCapabilityNegotiation, randomCapabilityNegotiation)
}
func TestDegradeProfileCodec(t *testing.T) {
	checkMessage(t, ParseDegradeProfile, randomDegradeProfile)
}

func TestCapabilityNegotiationRejects(t *testing.T) {
	rules := []rtCase[CapabilityNegotiation]{
		{"flag 0x4", func(m *CapabilityNegotiation) { m.Flags |= 0x4 }, func(b []byte) { b[28] |= 0x4 }},
		{"flag 0x10000", func(m *CapabilityNegotiation) { m.Flags = 0x10000 }, func(b []byte) { b[30] = 1 }},
	}
	base := CapabilityNegotiation{ProfileID: ProfileToken, CapabilityCount: 2, CostModel: CostBytesOnly,
		PreferenceRank: 1, LimitBytes: 4096, LimitUnits: 8, BodyBytes: 4, Flags: CapabilityDowngradeAllowed}
	rtRejects(t, base, ParseCapabilityNegotiation, rules)
	rtRejects(t, DegradeProfile(base), ParseDegradeProfile,
		rtAs(rules, func(m *DegradeProfile) *CapabilityNegotiation { return (*CapabilityNegotiation)(m) }))
}
