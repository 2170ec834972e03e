package wire

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"testing"
)

// Fuzz targets of the data plane. Each decodes arbitrary bytes, must never
// panic, and re-encodes what it accepted with the matching builder.

// seedDataPackets adds every packet vector of type t (and, for
// FRAME_SUBMIT, the metadata+body vectors framed as packets).
func seedDataPackets(f *testing.F, t MessageType) {
	vs, err := vectorsByHex()
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vs {
		b := hexBytes(f, v.Hex)
		switch {
		case v.Kind == "packet" && len(b) > 6 && MessageType(b[6]) == t:
			f.Add(b)
		case v.Kind == "metadata+body" && t == TypeFrameSubmit:
			f.Add(rawPacket(TypeFrameSubmit, b[:frameSubmitLen], b[frameSubmitLen:]))
		}
	}
}

func hexBytes(f *testing.F, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzSubmitView(f *testing.F) {
	r := rand.New(rand.NewPCG(21, 22))
	for range 20 {
		c := randomSubmit(f, r)
		pkt, err := c.b.Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pkt)
	}
	seedDataPackets(f, TypeFrameSubmit)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := ParsePacket(data, 0)
		if err != nil {
			return
		}
		var v SubmitView
		if err := v.Decode(&p, Limits{}); err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		accessAll(&v.dataBody)
		if v.Form() == BodyFormOpaque || v.Pending()&FrameSubmitSlotTileIndex != 0 {
			return // nothing to rebuild / tile ids unknown until resolved
		}
		pkt, err := submitBuilderOf(&v).Append(nil)
		if err != nil {
			t.Fatalf("rebuild of an accepted submit: %v", err)
		}
		var w SubmitView
		q, _, err := ParsePacket(pkt, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Decode(&q, Limits{}); err != nil {
			t.Fatalf("rebuilt submit does not decode: %v", err)
		}
		compareSubmitViews(t, &v, &w)
	})
}

// compareSubmitViews checks that a rebuilt submit carries the same header,
// metadata and content. submit_mode may differ (an empty inline camera
// block is not rebuilt); a non-tensor submit's tile_index_mode is
// normalised to RAW_U16 and tile_base_id is only kept for DENSE_RANGE.
func compareSubmitViews(t *testing.T, v, w *SubmitView) {
	t.Helper()
	hv, hw := v.Header, w.Header
	hv.BodyLen, hw.BodyLen = 0, 0
	if hv != hw {
		t.Fatalf("header %+v, rebuilt %+v", hv, hw)
	}
	mv, mw := v.Meta, w.Meta
	mv.SubmitMode, mw.SubmitMode = 0, 0
	if !mv.IsTensor() {
		mv.TileIndexMode = mw.TileIndexMode
	}
	if mv.TileIndexMode != TileIndexDenseRange {
		mv.TileBaseID = mw.TileBaseID
	}
	if mv != mw {
		t.Fatalf("metadata %+v, rebuilt %+v", mv, mw)
	}
	compareBodies(t, &v.dataBody, &w.dataBody)
	if !bytes.Equal(v.Camera(), w.Camera()) {
		t.Fatalf("camera %x, rebuilt %x", v.Camera(), w.Camera())
	}
}

func compareBodies(t *testing.T, v, w *dataBody) {
	t.Helper()
	if v.Pending() != w.Pending() {
		t.Fatalf("pending 0x%x, rebuilt 0x%x", v.Pending(), w.Pending())
	}
	if a, b := v.Tiles().AppendIDs(nil), w.Tiles().AppendIDs(nil); !slices.Equal(a, b) {
		t.Fatalf("tiles %v, rebuilt %v", a, b)
	}
	if v.SectionCount() != w.SectionCount() {
		t.Fatalf("%d sections, rebuilt %d", v.SectionCount(), w.SectionCount())
	}
	for k := range v.SectionCount() {
		want := sectionDataOf(v.Section(k))
		checkSectionTiles(t, "rebuilt section", w.Section(k), &want)
	}
	checkTyped(t, w.TypedFrames(), typedOf(v.TypedFrames()))
}

func FuzzResultView(f *testing.F) {
	r := rand.New(rand.NewPCG(23, 24))
	for i := range 20 {
		c := randomResult(r, 8)
		f.Add(buildResult(f, &c, i%2 == 0 && len(c.typed) == 0 && (c.tiles.Len() > 0 || len(c.sections) > 0)))
	}
	seedDataPackets(f, TypeResultPush)
	var rb ResultBuilder
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := ParsePacket(data, 0)
		if err != nil {
			return
		}
		var v ResultView
		if err := v.Decode(&p, Limits{}); err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		accessAll(&v.dataBody)
		tensorContent := v.Meta.TileCount > 0 || v.Meta.SectionCount > 0
		if v.Form() == BodyFormOpaque || v.Pending() != 0 || v.Meta.validateSend() != nil ||
			v.Meta.IsTensor() != tensorContent {
			// Opaque or referenced content cannot be rebuilt; results that
			// only the lenient receive rules accept cannot be sent.
			return
		}
		pkt, err := buildResultOf(&rb, &v)
		if err != nil {
			t.Fatalf("rebuild of an accepted result: %v", err)
		}
		w, err := decodeResult(t, pkt)
		if err != nil {
			t.Fatalf("rebuilt result does not decode: %v", err)
		}
		hv, hw := v.Header, w.Header
		hv.BodyLen, hw.BodyLen = 0, 0
		if hv != hw || v.Meta != w.Meta {
			t.Fatalf("header/metadata %+v %+v, rebuilt %+v %+v", hv, v.Meta, hw, w.Meta)
		}
		compareBodies(t, &v.dataBody, &w.dataBody)
	})
}

func FuzzTileIndex(f *testing.F) {
	vs, err := vectorsByHex()
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vs {
		if v.Kind != "tile_index_block" {
			continue
		}
		mode, _ := number(v.Fields["tile_index_mode"])
		base, _ := number(v.Fields["tile_base_id"])
		f.Add(uint8(mode.Uint64()), uint16(len(v.Fields["tile_ids"].([]any))), uint32(base.Uint64()), hexBytes(f, v.Hex))
	}
	f.Add(uint8(TileIndexBitset), uint16(5), uint32(0), []byte{0xff, 0, 0x80})
	f.Fuzz(func(t *testing.T, mode uint8, n uint16, base uint32, data []byte) {
		x, err := DecodeTileIndex(TileIndexMode(mode), int(n), base, data)
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		ids := x.AppendIDs(nil)
		if len(ids) != int(n) {
			t.Fatalf("%d ids for tile_count %d", len(ids), n)
		}
		for i := range min(len(ids), 16) {
			if x.At(i) != ids[i] {
				t.Fatalf("At(%d) = %d, iterator %d", i, x.At(i), ids[i])
			}
		}
		out, err := AppendTileIndex(nil, x.Spec(nil))
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("re-encode %x, decoded from %x", out, data)
		}
	})
}
