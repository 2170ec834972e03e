package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseCachePut)
	registerMessage(ParseCacheAck)
	registerMessage(ParseCacheInvalidate)
}

func randomCachePut(r *rand.Rand) CachePut {
	return CachePut{
		Namespace: r32(r), ObjectKind: 1 + rBelow(r, maxCacheObjectKind), KeyHi: r64(r), KeyLo: r64(r),
		TTLMS: r32(r), ObjectBytes: r32(r), CodecBitmap: r32(r), Flags: rBits(r, knownCachePutFlags),
	}
}

func randomCacheAck(r *rand.Rand) CacheAck {
	return CacheAck{
		Namespace: r32(r), Status: rBelow(r, CacheStatusReplaced+1), KeyHi: r64(r), KeyLo: r64(r),
		AcceptedTTLMS: r32(r), MaxObjectBytes: r32(r), DetailCode: ErrorCode(r32(r)),
	}
}

func randomCacheInvalidate(r *rand.Rand) CacheInvalidate {
	m := CacheInvalidate{Scope: rBelow(r, InvalidateObjectKey+1), ReasonCode: r32(r)}
	switch m.Scope {
	case InvalidateNamespace:
		m.Namespace = r32(r)
	case InvalidateObjectKind:
		m.Namespace, m.KeyHi = r32(r), uint64(r32(r))
	case InvalidateObjectKey:
		m.Namespace, m.KeyHi, m.KeyLo = r32(r), r64(r), r64(r)
	}
	return m
}

func TestCachePutCodec(t *testing.T) { checkMessage(t, ParseCachePut, randomCachePut) }
func TestCacheAckCodec(t *testing.T) { checkMessage(t, ParseCacheAck, randomCacheAck) }
func TestCacheInvalidateCodec(t *testing.T) {
	checkMessage(t, ParseCacheInvalidate, randomCacheInvalidate)
}

func TestCachePutRejects(t *testing.T) {
	base := CachePut{Namespace: 1, ObjectKind: ObjectCameraBlock, KeyHi: 1, KeyLo: 2, TTLMS: 15000,
		ObjectBytes: 2048, CodecBitmap: 3, Flags: CachePinned | CacheReusable}
	ctlRejects(t, base, ParseCachePut, []ctlCase[CachePut]{
		{name: "object_kind 0", mod: func(m *CachePut) { m.ObjectKind = 0 }},
		{name: "object_kind 10", mod: func(m *CachePut) { m.ObjectKind = 10 }},
		// A wide u32 kind whose low half is valid must not be narrowed into range.
		{name: "object_kind 0x10001", patch: func(b []byte) { ctlPut32(b, 4, 0x10001) }},
		{name: "flags 0x4", mod: func(m *CachePut) { m.Flags = 0x4 }},
	})
	if n, ok := base.ExpectedBodyLen(); !ok || n != 2048 {
		t.Fatalf("ExpectedBodyLen = %d, %v", n, ok)
	}
}

func TestCacheAckRejects(t *testing.T) {
	base := CacheAck{Namespace: 1, Status: CacheStatusRejected, DetailCode: CacheErrSchemaMismatch}
	ctlRejects(t, base, ParseCacheAck, []ctlCase[CacheAck]{
		{name: "status 3", mod: func(m *CacheAck) { m.Status = 3 }},
		{name: "reserved 36", patch: func(b []byte) { b[36] = 1 }},
		{name: "reserved 39", patch: func(b []byte) { b[39] = 0x80 }},
	})
}

func TestCacheInvalidateRejects(t *testing.T) {
	key := CacheInvalidate{Scope: InvalidateObjectKey, Namespace: 1, KeyHi: 1 << 63, KeyLo: 5, ReasonCode: 2}
	ctlRejects(t, key, ParseCacheInvalidate, []ctlCase[CacheInvalidate]{
		{name: "scope 4", mod: func(m *CacheInvalidate) { m.Scope = 4 }},
		{name: "reserved 28", patch: func(b []byte) { b[28] = 1 }},
		{name: "reserved 31", patch: func(b []byte) { b[31] = 1 }},
		{name: "whole_session, namespace", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateWholeSession, Namespace: 1}
		}},
		{name: "whole_session, key hi", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateWholeSession, KeyHi: 1}
		}},
		{name: "whole_session, key lo", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateWholeSession, KeyLo: 1}
		}},
		{name: "namespace, key hi", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateNamespace, Namespace: 4, KeyHi: 1}
		}},
		{name: "namespace, key lo", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateNamespace, Namespace: 4, KeyLo: 1}
		}},
		{name: "object_kind, kind > u32", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateObjectKind, KeyHi: 1 << 32}
		}},
		{name: "object_kind, key lo", mod: func(m *CacheInvalidate) {
			*m = CacheInvalidate{Scope: InvalidateObjectKind, KeyHi: 3, KeyLo: 1}
		}},
	})
	for _, ok := range []CacheInvalidate{
		{Scope: InvalidateWholeSession, ReasonCode: 9},
		{Scope: InvalidateNamespace, Namespace: 7},
		{Scope: InvalidateObjectKind, Namespace: 7, KeyHi: 0xFFFFFFFF},
	} {
		if _, err := ok.Append(nil); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}
