package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseObjectDeclare)
	registerMessage(ParseObjectRef)
	registerMessage(ParseObjectRelease)
	registerMessage(ParseObjectPatch)
	registerMessage(ParseObjectDelta)
}

func randomObjectDeclare(r *rand.Rand) ObjectDeclare {
	return ObjectDeclare{
		ObjectID: r64(r), Kind: rBelow(r, ObjectKindCacheManifest+1),
		ProducerRole: rtRandomRole(r, false), ConsumerRole: rtRandomRole(r, false),
		SessionID: r32(r), ByteSize: r64(r), ComputeCostUnits: r32(r),
		MemoryLocation: rBelow(r, MemoryObjectStore+1), Ownership: rBelow(r, OwnershipReleaseOnDrop+1),
		LifetimeHintMS: r32(r), MetadataBytes: r32(r),
	}
}

func randomObjectRef(r *rand.Rand) ObjectRef {
	return ObjectRef{
		ObjectID: r64(r), OperationID: r64(r), ObjectVersion: r64(r), Offset: r64(r), Length: r64(r),
		Flags: rBits(r, knownObjectRefFlags), MetadataBytes: r32(r),
	}
}

func randomObjectRelease(r *rand.Rand) ObjectRelease {
	return ObjectRelease{
		ObjectID: r64(r), OperationID: r64(r), Reason: rBelow(r, ReleaseConformanceInjection+1),
		SourceRole: rtRandomRole(r, false), Flags: rBits(r, knownObjectReleaseFlags), DiagnosticBytes: r32(r),
	}
}

func randomObjectPatch(r *rand.Rand) ObjectPatch {
	return ObjectPatch{
		ObjectID: r64(r), DeltaSequence: r64(r), RegionOffset: r64(r), RegionBytes: r32(r),
		DeltaBytes: r32(r), Flags: rBits(r, knownPatchFlags), MetadataBytes: r32(r),
	}
}

func randomObjectDelta(r *rand.Rand) ObjectDelta { return ObjectDelta(randomObjectPatch(r)) }

func TestObjectDeclareCodec(t *testing.T) { checkMessage(t, ParseObjectDeclare, randomObjectDeclare) }
func TestObjectRefCodec(t *testing.T)     { checkMessage(t, ParseObjectRef, randomObjectRef) }
func TestObjectReleaseCodec(t *testing.T) { checkMessage(t, ParseObjectRelease, randomObjectRelease) }
func TestObjectPatchCodec(t *testing.T)   { checkMessage(t, ParseObjectPatch, randomObjectPatch) }
func TestObjectDeltaCodec(t *testing.T)   { checkMessage(t, ParseObjectDelta, randomObjectDelta) }

func TestObjectDeclareRejects(t *testing.T) {
	base := ObjectDeclare{ObjectID: 1, Kind: ObjectKindTensor, ProducerRole: RoleRuntime,
		ConsumerRole: RoleClient, SessionID: 2, ByteSize: 4096, ComputeCostUnits: 7,
		MemoryLocation: MemoryDevice, Ownership: OwnershipBorrowed, LifetimeHintMS: 500, MetadataBytes: 12}
	rtRejects(t, base, ParseObjectDeclare, []rtCase[ObjectDeclare]{
		{"object_kind 13", func(m *ObjectDeclare) { m.Kind = 13 }, func(b []byte) { rtPut16(b, 8, 13) }},
		{"producer_role 8", func(m *ObjectDeclare) { m.ProducerRole = 8 }, func(b []byte) { b[10] = 8 }},
		{"producer_role private", func(m *ObjectDeclare) { m.ProducerRole = 0x80 }, func(b []byte) { b[10] = 0x80 }},
		{"consumer_role 8", func(m *ObjectDeclare) { m.ConsumerRole = 8 }, func(b []byte) { b[11] = 8 }},
		{"consumer_role private", func(m *ObjectDeclare) { m.ConsumerRole = 0xFF }, func(b []byte) { b[11] = 0xFF }},
		{"memory_location_hint 7", func(m *ObjectDeclare) { m.MemoryLocation = 7 }, func(b []byte) { rtPut16(b, 28, 7) }},
		{"ownership_hint 7", func(m *ObjectDeclare) { m.Ownership = 7 }, func(b []byte) { rtPut16(b, 30, 7) }},
		{"reserved u64", nil, func(b []byte) { b[47] = 1 }},
	})
}

func TestObjectRefRejects(t *testing.T) {
	base := ObjectRef{ObjectID: 1, OperationID: 3, ObjectVersion: 4, Offset: 8, Length: 16,
		Flags: ObjectRefBorrowed | ObjectRefRegionPresent, MetadataBytes: 20}
	rtRejects(t, base, ParseObjectRef, []rtCase[ObjectRef]{
		{"flag 0x8", func(m *ObjectRef) { m.Flags |= 0x8 }, func(b []byte) { b[40] |= 0x8 }},
		{"flag 0x80000000", func(m *ObjectRef) { m.Flags = 0x80000000 }, func(b []byte) { b[43] = 0x80 }},
	})
}

func TestObjectReleaseRejects(t *testing.T) {
	base := ObjectRelease{ObjectID: 1, OperationID: 3, Reason: ReleaseCancelled, SourceRole: RoleScheduler,
		Flags: ObjectReleaseFinal | ObjectReleaseInvalidatesDependents, DiagnosticBytes: 8}
	rtRejects(t, base, ParseObjectRelease, []rtCase[ObjectRelease]{
		{"release_reason 8", func(m *ObjectRelease) { m.Reason = 8 }, func(b []byte) { rtPut16(b, 16, 8) }},
		{"source_role 8", func(m *ObjectRelease) { m.SourceRole = 8 }, func(b []byte) { b[18] = 8 }},
		{"source_role private", func(m *ObjectRelease) { m.SourceRole = 0x80 }, func(b []byte) { b[18] = 0x80 }},
		{"flag 0x04", func(m *ObjectRelease) { m.Flags |= 0x04 }, func(b []byte) { b[19] |= 0x04 }},
		{"reserved u64", nil, func(b []byte) { b[24] = 1 }},
	})
}

func TestObjectPatchRejects(t *testing.T) {
	rules := []rtCase[ObjectPatch]{
		{"flag 0x8", func(m *ObjectPatch) { m.Flags |= 0x8 }, func(b []byte) { b[32] |= 0x8 }},
		{"flag 0x100", func(m *ObjectPatch) { m.Flags = 0x100 }, func(b []byte) { b[33] = 1 }},
	}
	base := ObjectPatch{ObjectID: 1, DeltaSequence: 2, RegionOffset: 64, RegionBytes: 32,
		DeltaBytes: 16, Flags: PatchReplacesRegion | PatchFinalDelta, MetadataBytes: 4}
	rtRejects(t, base, ParseObjectPatch, rules)
	rtRejects(t, ObjectDelta(base), ParseObjectDelta,
		rtAs(rules, func(m *ObjectDelta) *ObjectPatch { return (*ObjectPatch)(m) }))
}

// The body of OBJECT_PATCH/OBJECT_DELTA is extension ‖ delta, and its length
// is the 64-bit sum of two u32 fields (C§2.2).
func TestObjectDeltaBody(t *testing.T) {
	huge := ObjectDelta{MetadataBytes: 0xFFFFFFFF, DeltaBytes: 0xFFFFFFFF}
	if n, ok := huge.ExpectedBodyLen(); !ok || n != 0x1FFFFFFFE {
		t.Fatalf("ExpectedBodyLen = %d, %v; want %d", n, ok, uint64(0x1FFFFFFFE))
	}

	m := ObjectDelta{ObjectID: 1, DeltaSequence: 2, DeltaBytes: 5, MetadataBytes: 3}
	pkt, err := AppendPacket(nil, Header{SessionID: 1}, &m, []byte("ext"), []byte("delta"))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := ParsePacket(pkt, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(&p, ParseObjectDelta)
	if err != nil {
		t.Fatal(err)
	}
	ext, delta, err := got.SplitBody(p.Body)
	if err != nil || string(ext) != "ext" || string(delta) != "delta" {
		t.Fatalf("SplitBody = %q, %q, %v", ext, delta, err)
	}
	// The extension must not be extendable into the delta through append.
	if cap(ext) != len(ext) {
		t.Fatalf("extension has spare capacity %d", cap(ext)-len(ext))
	}

	for _, body := range [][]byte{nil, []byte("extdelt"), []byte("extdelta!")} {
		if _, _, err := got.SplitBody(body); err == nil {
			t.Fatalf("SplitBody(%q) accepted", body)
		}
		var patch = ObjectPatch(got)
		_, _, err := patch.SplitBody(body)
		expectReject(t, "OBJECT_PATCH SplitBody", err, CodeMalformedBody)
	}

	// A body one byte short of metadata_bytes + delta_bytes fails Decode.
	short := bytes.Clone(pkt)
	short[16]-- // header body_len
	p, _, err = ParsePacket(short[:len(short)-1], 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(&p, ParseObjectDelta)
	expectReject(t, "OBJECT_DELTA short body", err, CodeMalformedBody)
}
