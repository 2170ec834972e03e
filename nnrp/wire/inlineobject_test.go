package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func randomInlineObjectHeader(r *rand.Rand) InlineObjectHeader {
	return InlineObjectHeader{Kind: 1 + rBelow(r, maxCacheObjectKind), ProfileID: ProfileID(r16(r)), ObjectBytes: r32(r)}
}

func TestInlineObjectHeaderCodec(t *testing.T) {
	checkBlock(t, ParseInlineObjectHeader, randomInlineObjectHeader)
}

func TestInlineObjectHeaderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    InlineObjectHeader
	}{
		{"object_kind 0", InlineObjectHeader{}},
		{"object_kind 10", InlineObjectHeader{Kind: 10}},
		{"object_flags 1", InlineObjectHeader{Kind: 1, Flags: 1}},
	} {
		_, err := tc.h.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		_, _, err = ParseInlineObjectHeader(tc.h.appendUnchecked(nil))
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
	for _, off := range []int{6, 7, 12, 15} {
		b := (&InlineObjectHeader{Kind: 1}).appendUnchecked(nil)
		b[off] = 1
		_, _, err := ParseInlineObjectHeader(b)
		expectReject(t, "reserved byte "+itoa(uint64(off)), err, CodeMalformedBody)
	}
}

func TestInlineObjectWalker(t *testing.T) {
	payloads := [][]byte{[]byte("camera!"), nil, bytes.Repeat([]byte{7}, 16), []byte("x")}
	kinds := []CacheObjectKind{ObjectCameraBlock, ObjectTileIndexBlock, ObjectTensorSectionTable, ObjectPromptSegment}
	var region []byte
	for i := range payloads {
		var err error
		region, err = AppendInlineObject(region, kinds[i], ProfileID(i), payloads[i])
		expectOK(t, "append", err)
	}
	if want := 24 + 16 + 32 + 24; len(region) != want {
		t.Fatalf("region is %d bytes, want %d", len(region), want)
	}
	w := NewInlineObjectWalker(region)
	i := 0
	for obj, ok := w.Next(); ok; obj, ok = w.Next() {
		if obj.Header.Kind != kinds[i] || obj.Header.ProfileID != ProfileID(i) || !bytes.Equal(obj.Payload, payloads[i]) {
			t.Fatalf("block %d: %+v %q", i, obj.Header, obj.Payload)
		}
		i++
	}
	expectOK(t, "walk", w.Err())
	if i != len(payloads) {
		t.Fatalf("walked %d blocks", i)
	}
	if n := testing.AllocsPerRun(100, func() {
		w := NewInlineObjectWalker(region)
		for _, ok := w.Next(); ok; _, ok = w.Next() {
		}
	}); n != 0 {
		t.Fatalf("walk allocates %v times", n)
	}

	walk := func(region []byte) error {
		w := NewInlineObjectWalker(region)
		for _, ok := w.Next(); ok; _, ok = w.Next() {
		}
		return w.Err()
	}
	for cut := 1; cut < len(region); cut++ {
		if cut == 24 || cut == 40 || cut == 72 { // block boundaries: a shorter valid region
			expectOK(t, "prefix", walk(region[:cut]))
			continue
		}
		expectTruncated(t, "walk", cut, len(region), walk(region[:cut]))
	}
	bad := bytes.Clone(region)
	bad[16+7] = 1 // padding of the 7-byte camera block
	expectReject(t, "non-zero padding", walk(bad), CodeMalformedBody)
	two, _ := AppendInlineObject(nil, ObjectTileIndexBlock, 0, nil)
	two, _ = AppendInlineObject(two, ObjectTileIndexBlock, 0, nil)
	expectReject(t, "second tile index block", walk(two), CodeMalformedBody)
	dup, _ := AppendInlineObject(nil, ObjectPromptSegment, 0, nil)
	dup, _ = AppendInlineObject(dup, ObjectPromptSegment, 0, nil)
	expectOK(t, "non-standard kinds may repeat", walk(dup))
	unknown := bytes.Clone(region)
	unknown[0] = 10
	expectReject(t, "unknown kind", walk(unknown), CodeMalformedBody)
	_, err := AppendInlineObject(nil, 0, 0, nil)
	expectReject(t, "append kind 0", err, CodeMalformedBody)
}
