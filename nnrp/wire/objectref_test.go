package wire

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func randomObjectReference(r *rand.Rand) ObjectReference {
	return ObjectReference{Kind: 1 + rBelow(r, maxCacheObjectKind), Namespace: r32(r), KeyHi: r64(r), KeyLo: r64(r)}
}

func TestObjectReferenceCodec(t *testing.T) {
	checkBlock(t, ParseObjectReference, randomObjectReference)
}

func TestObjectReferenceRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    ObjectReference
	}{
		{"object_kind 0", ObjectReference{}},
		{"object_kind 10", ObjectReference{Kind: 10}},
		{"ref_flags 3", ObjectReference{Kind: 1, Flags: 3}},
	} {
		_, err := tc.r.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		_, _, err = ParseObjectReference(tc.r.appendUnchecked(nil))
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
}

func refRegion(refs ...ObjectReference) []byte {
	var b []byte
	for i := range refs {
		b = refs[i].appendUnchecked(b)
	}
	return b
}

func TestObjectReferenceRegionSubmit(t *testing.T) {
	cam := ObjectReference{Kind: ObjectCameraBlock, Namespace: 1}
	tix := ObjectReference{Kind: ObjectTileIndexBlock, Namespace: 1}
	tab := ObjectReference{Kind: ObjectTensorSectionTable, Namespace: 1}
	other := ObjectReference{Kind: ObjectPromptSegment, Namespace: 9}
	check := func(mask FrameSubmitSlots, refs ...ObjectReference) error {
		r, err := ParseObjectReferenceRegion(refRegion(refs...))
		if err != nil {
			return err
		}
		return r.CheckSubmit(mask)
	}
	expectOK(t, "slot order", check(0x7, cam, tix, tab))
	expectOK(t, "non-standard ignored", check(0x5, other, cam, other, tab))
	expectOK(t, "empty", check(0))
	expectReject(t, "out of slot order", check(0x3, tix, cam), CodeMalformedBody)
	expectReject(t, "slot twice", check(0x1, cam, cam), CodeMalformedBody)
	expectReject(t, "slot not in mask", check(0x1, cam, tix), CodeMalformedBody)
	expectReject(t, "mask slot missing", check(0x3, cam), CodeMalformedBody)
	_, err := ParseObjectReferenceRegion(make([]byte, 16))
	expectReject(t, "16-byte region", err, CodeMalformedBody)
	_, err = ParseObjectReferenceRegion(refRegion(ObjectReference{Kind: 1, Flags: 1}))
	expectReject(t, "ref_flags in region", err, CodeMalformedBody)

	r, err := ParseObjectReferenceRegion(refRegion(other, cam, tab))
	expectOK(t, "parse", err)
	if got, ok := r.Slot(FrameSubmitSlotSectionTable); !ok || got != tab {
		t.Fatalf("Slot(table) = %+v %v", got, ok)
	}
	if _, ok := r.Slot(FrameSubmitSlotTileIndex); ok {
		t.Fatal("Slot(tile index) found")
	}
	if r.Slots() != FrameSubmitSlotCamera|FrameSubmitSlotSectionTable || r.Len() != 3 || r.At(0) != other {
		t.Fatalf("region %v %d %+v", r.Slots(), r.Len(), r.At(0))
	}
}

func TestObjectReferenceRegionResult(t *testing.T) {
	a := ObjectReference{Kind: ObjectTileIndexBlock, Namespace: 1, KeyHi: 5, KeyLo: 5}
	check := func(refs ...ObjectReference) error {
		r, err := ParseObjectReferenceRegion(refRegion(refs...))
		if err != nil {
			return err
		}
		return r.CheckResult()
	}
	with := func(f func(*ObjectReference)) ObjectReference { r := a; f(&r); return r }
	expectOK(t, "ascending by kind", check(a, with(func(r *ObjectReference) { r.Kind = ObjectTensorSectionTable; r.Namespace = 0 })))
	expectOK(t, "other kinds repeat", check(with(func(r *ObjectReference) { r.Kind = 5 }), with(func(r *ObjectReference) { r.Kind = 5; r.KeyLo = 6 })))
	expectReject(t, "equal", check(with(func(r *ObjectReference) { r.Kind = 5 }), with(func(r *ObjectReference) { r.Kind = 5 })), CodeMalformedBody)
	expectReject(t, "descending namespace", check(with(func(r *ObjectReference) { r.Kind = 5; r.Namespace = 2 }), with(func(r *ObjectReference) { r.Kind = 5 })), CodeMalformedBody)
	expectReject(t, "descending key_hi", check(with(func(r *ObjectReference) { r.Kind = 5; r.KeyHi = 6 }), with(func(r *ObjectReference) { r.Kind = 5 })), CodeMalformedBody)
	expectReject(t, "descending key_lo", check(with(func(r *ObjectReference) { r.Kind = 5; r.KeyLo = 6 }), with(func(r *ObjectReference) { r.Kind = 5 })), CodeMalformedBody)
	expectReject(t, "two tile indexes", check(a, with(func(r *ObjectReference) { r.KeyLo = 6 })), CodeMalformedBody)
}

func TestObjectReferenceMissError(t *testing.T) {
	ref := ObjectReference{Kind: ObjectCameraBlock, Namespace: 3, KeyHi: 1, KeyLo: 2}
	err := errMiss(TypeFrameSubmit, ref)
	expectReject(t, "miss", err, CodeCacheMiss)
	var miss *ObjectReferenceMissError
	if !errors.As(err, &miss) || miss.Ref != ref {
		t.Fatalf("errors.As: %v", err)
	}
}
