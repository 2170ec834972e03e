package wire

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseCacheReference)
	registerMessage(ParseCacheMiss)
}

func randomCacheReference(r *rand.Rand) CacheReference {
	return CacheReference{
		CacheNamespace: r32(r), ProfileID: ProfileID(r16(r)), Scope: rBelow(r, ReuseProfile+1),
		CacheKeyHi: r64(r), CacheKeyLo: r64(r), LeaseID: r64(r), ProducerTraceID: r64(r),
		ExpirationHintMS: r32(r), MetadataBytes: r32(r), Flags: rBits(r, knownCacheReferenceFlags),
	}
}

func randomCacheMiss(r *rand.Rand) CacheMiss {
	return CacheMiss{
		CacheNamespace: r32(r), ProfileID: ProfileID(r16(r)), Reason: rBelow(r, MissPermissionDenied+1),
		CacheKeyHi: r64(r), CacheKeyLo: r64(r), DiagnosticBytes: r32(r),
	}
}

func TestCacheReferenceCodec(t *testing.T) {
	checkMessage(t, ParseCacheReference, randomCacheReference)
}
func TestCacheMissCodec(t *testing.T) { checkMessage(t, ParseCacheMiss, randomCacheMiss) }

func TestCacheReferenceRejects(t *testing.T) {
	base := CacheReference{CacheNamespace: 1, ProfileID: 258, Scope: ReuseSession,
		CacheKeyHi: 0x1122334455667788, CacheKeyLo: 0x99aabbccddeeff00, LeaseID: 5,
		ExpirationHintMS: 30000, MetadataBytes: 4, Flags: CacheRefLeaseRequired}
	rtRejects(t, base, ParseCacheReference, []rtCase[CacheReference]{
		{"reuse_scope 6", func(m *CacheReference) { m.Scope = 6 }, func(b []byte) { rtPut16(b, 6, 6) }},
		{"reuse_scope 0xffff", func(m *CacheReference) { m.Scope = 0xFFFF }, func(b []byte) { rtPut16(b, 6, 0xFFFF) }},
		{"flag 0x4", func(m *CacheReference) { m.Flags |= 0x4 }, func(b []byte) { b[48] |= 0x4 }},
		{"reserved u32", nil, func(b []byte) { b[55] = 0x80 }},
	})
}

func TestCacheMissRejects(t *testing.T) {
	base := CacheMiss{CacheNamespace: 1, ProfileID: 2, Reason: MissNotFound,
		CacheKeyHi: 0x1122334455667788, CacheKeyLo: 0x99aabbccddeeff00, DiagnosticBytes: 9}
	rtRejects(t, base, ParseCacheMiss, []rtCase[CacheMiss]{
		{"miss_reason 8", func(m *CacheMiss) { m.Reason = 8 }, func(b []byte) { rtPut16(b, 6, 8) }},
		{"reserved u32", nil, func(b []byte) { b[28] = 1 }},
	})
}

// A miss echoes the reference's complete identity (C§7.9) and encodes to the
// vector recipe.preview4.cache_miss.not_found.
func TestCacheReferenceMiss(t *testing.T) {
	ref := CacheReference{CacheNamespace: 1, ProfileID: 258, Scope: ReuseSession,
		CacheKeyHi: 0x1122334455667788, CacheKeyLo: 0x99aabbccddeeff00, LeaseID: 0x0102030405060708,
		ProducerTraceID: 0x1112131415161718, ExpirationHintMS: 30000, Flags: 3}
	miss := ref.Miss(MissNotFound)
	if !miss.Echoes(&ref) {
		t.Fatalf("%+v does not echo %+v", miss, ref)
	}
	b, err := miss.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "0100000002010100887766554433221100ffeeddccbbaa990000000000000000"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("miss encodes to %s, want %s", got, want)
	}
	for _, other := range []CacheReference{
		{CacheNamespace: 2, ProfileID: 258, CacheKeyHi: ref.CacheKeyHi, CacheKeyLo: ref.CacheKeyLo},
		{CacheNamespace: 1, ProfileID: 2, CacheKeyHi: ref.CacheKeyHi, CacheKeyLo: ref.CacheKeyLo},
		{CacheNamespace: 1, ProfileID: 258, CacheKeyHi: 1, CacheKeyLo: ref.CacheKeyLo},
		{CacheNamespace: 1, ProfileID: 258, CacheKeyHi: ref.CacheKeyHi, CacheKeyLo: 1},
	} {
		if miss.Echoes(&other) {
			t.Errorf("miss %+v claims to echo %+v", miss, other)
		}
	}
}
