package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

func buildResult(t testing.TB, c *resultCase, legacy bool) []byte {
	t.Helper()
	b := ResultBuilder{LegacyRaw: legacy}
	segs, err := c.build(&b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Join(segs, nil)
}

func TestResultViewTruncation(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for range 60 {
		c := randomResult(r, 8)
		pkt := buildResult(t, &c, false)
		for cut := range len(pkt) {
			_, _, err := ParsePacket(pkt[:cut], 0)
			expectTruncated(t, "packet", cut, len(pkt), err)
		}
		bodyStart := HeaderLen + resultPushLen
		for cut := bodyStart; cut < len(pkt); cut++ {
			short := bytes.Clone(pkt[:cut])
			binary.LittleEndian.PutUint32(short[16:], uint32(cut-bodyStart))
			v, err := decodeResult(t, short)
			if err == nil {
				// The prelude sum rule catches every cut. The legacy raw
				// form has no framing of its own (D§5.9), so a cut tensor
				// body can still read as one (RAW ids without sections);
				// a cut non-tensor body is opaque.
				if v.Form() == BodyFormPrelude || !v.Meta.IsTensor() && v.Form() != BodyFormOpaque {
					t.Fatalf("body cut to %d of %d accepted as %v", cut-bodyStart, len(pkt)-bodyStart, v.Form())
				}
				continue
			}
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
		}
	}
}

func TestResultViewCorruption(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for i := range 40 {
		c := randomResult(r, 6)
		pkt := buildResult(t, &c, i%3 == 0 && len(c.typed) == 0 && (c.tiles.Len() > 0 || len(c.sections) > 0))
		for j := range pkt {
			for _, x := range []byte{0xFF, 0x01, 0x80} {
				bad := bytes.Clone(pkt)
				bad[j] ^= x
				p, _, err := ParsePacket(bad, 0)
				if err != nil {
					continue
				}
				var v ResultView
				if v.Decode(&p, Limits{}) == nil {
					accessAll(&v.dataBody)
				}
			}
		}
	}
}

func TestResultViewAllocs(t *testing.T) {
	tiles, sections := sixtyFourTiles()
	var b ResultBuilder
	segs, err := b.Build(Header{SessionID: 1, FrameID: 1}, ResultPush{}, tiles, sections, []TypedPayload{TypedPayloadTokenChunk([]byte("done"))})
	expectOK(t, "build", err)
	p, _, err := ParsePacket(bytes.Join(segs, nil), 0)
	expectOK(t, "frame", err)
	var v ResultView
	if n := testing.AllocsPerRun(100, func() {
		if err := v.Decode(&p, Limits{}); err != nil {
			t.Fatal(err)
		}
		it := v.Section(0).Tiles()
		for tile, ok := it.Next(); ok; tile, ok = it.Next() {
			_ = tile
		}
	}); n != 0 {
		t.Fatalf("ResultView.Decode allocates %v times per run", n)
	}
}

func BenchmarkResultViewDecode(b *testing.B) {
	tiles, sections := sixtyFourTiles()
	var rb ResultBuilder
	segs, err := rb.Build(Header{SessionID: 1, FrameID: 1}, ResultPush{}, tiles, sections, nil)
	if err != nil {
		b.Fatal(err)
	}
	pkt := bytes.Join(segs, nil)
	p, _, err := ParsePacket(pkt, 0)
	if err != nil {
		b.Fatal(err)
	}
	var v ResultView
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := v.Decode(&p, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestResultViewRejects(t *testing.T) {
	ids, _ := AppendTileIndex(nil, TileList(TileIndexRawU16, []uint16{5, 1}))
	table := sectionTableBytes(t, []SectionData{{RoleID: 1, Tiles: [][]byte{{1}, {2, 3}}}})
	tileBlock, tableBlock := inlineBlock(ObjectTileIndexBlock, ids), inlineBlock(ObjectTensorSectionTable, table)
	base := ResultPush{PayloadKindBitmap: PayloadTensor, TileCount: 2, SectionCount: 1, TileIndexBytes: 4, CoveredTileCount: 2}
	with := func(f func(*ResultPush)) ResultPush { m := base; f(&m); return m }
	tixRef := ObjectReference{Kind: ObjectTileIndexBlock, Namespace: 2}
	tabRef := ObjectReference{Kind: ObjectTensorSectionTable, Namespace: 1}
	pkt := func(m ResultPush, body []byte) []byte { return rawPacket(TypeResultPush, m.appendUnchecked(nil), body) }
	valid := bodyParts{inline: cat(tileBlock, tableBlock)}
	dense := with(func(m *ResultPush) { m.TileIndexBytes = 0; m.TileBaseID = 4 })
	for _, tc := range []struct {
		name string
		pkt  []byte
		code ErrorCode
	}{
		{"valid RAW_U16", pkt(base, valid.bytes()), CodeNone},
		{"valid DENSE_RANGE with header-only block", pkt(dense, bodyParts{inline: cat(inlineBlock(ObjectTileIndexBlock, nil), tableBlock)}.bytes()), CodeNone},
		{"valid DENSE_RANGE without block", pkt(dense, bodyParts{inline: tableBlock}.bytes()), CodeNone},
		{"R2 violation is received leniently", pkt(with(func(m *ResultPush) { m.ReusedFrameID = 41 }), valid.bytes()), CodeNone},
		{"valid legacy raw form", pkt(base, cat(ids, make([]byte, 4), table)), CodeNone},
		{"opaque token result", pkt(ResultPush{PayloadKindBitmap: PayloadTokenChunk, PayloadFrameCount: 1}, []byte("delta")), CodeNone},
		{"tensor result in neither form", pkt(with(func(m *ResultPush) { m.PayloadKindBitmap |= PayloadTokenChunk; m.PayloadFrameCount = 1 }), []byte("delta")), CodeMalformedBody},
		{"R1 on receive", pkt(ResultPush{PayloadKindBitmap: PayloadTokenChunk, TileCount: 1}, nil), CodeMalformedBody},
		{"meta_len 72", rawPacket(TypeResultPush, make([]byte, 72), nil), CodeMalformedBody},
		{"tile_index_bytes neither 0 nor 2×tile_count", pkt(with(func(m *ResultPush) { m.TileIndexBytes = 16 }),
			bodyParts{inline: cat(inlineBlock(ObjectTileIndexBlock, make([]byte, 16)), tableBlock)}.bytes()), CodeMalformedBody},
		{"tile_index_bytes != block", pkt(with(func(m *ResultPush) { m.TileIndexBytes = 0 }), valid.bytes()), CodeMalformedBody},
		{"tile_index_bytes without block", pkt(base, bodyParts{inline: tableBlock}.bytes()), CodeMalformedBody},
		{"tile_index_bytes for a referenced index", pkt(base, bodyParts{inline: tableBlock, refs: refRegion(tixRef)}.bytes()), CodeMalformedBody},
		{"DENSE_RANGE beyond u16", pkt(with(func(m *ResultPush) { m.TileIndexBytes = 0; m.TileBaseID = 0xFFFF }), bodyParts{inline: tableBlock}.bytes()), CodeMalformedBody},
		{"section table absent", pkt(base, bodyParts{inline: tileBlock}.bytes()), CodeMalformedBody},
		{"inline and referenced", pkt(base, bodyParts{inline: valid.inline, refs: refRegion(tabRef)}.bytes()), CodeMalformedBody},
		{"references not ascending", pkt(dense, bodyParts{refs: refRegion(tabRef, tixRef)}.bytes()), CodeMalformedBody},
		{"references ascending", pkt(dense, bodyParts{refs: refRegion(tixRef, tabRef)}.bytes()), CodeNone},
		{"critical extension", pkt(base, bodyParts{inline: valid.inline,
			extDesc: func() []byte { b, _ := (&ExtensionDescriptor{Flags: ExtensionCritical}).Append(nil); return b }()}.bytes()), CodeUnsupportedCapability},
		{"body_len above the limit", pkt(base, cat(valid.bytes(), make([]byte, 32<<20))), CodeLimitExceeded},
	} {
		v, err := decodeResult(t, tc.pkt)
		if tc.code == CodeNone {
			expectOK(t, tc.name, err)
			accessAll(&v.dataBody)
			continue
		}
		expectReject(t, tc.name, err, tc.code)
	}

	// Referenced tile index and table: the index mode follows from the
	// resolved object's length.
	v, err := decodeResult(t, pkt(dense, bodyParts{refs: refRegion(tixRef, tabRef)}.bytes()))
	expectOK(t, "referenced", err)
	if v.Pending() != FrameSubmitSlotTileIndex|FrameSubmitSlotSectionTable {
		t.Fatalf("pending 0x%x", v.Pending())
	}
	err = v.Resolve(mapResolver{tabRef: table})
	var miss *ObjectReferenceMissError
	if !errors.As(err, &miss) || miss.Ref != tixRef {
		t.Fatalf("resolve without the index: %v", err)
	}
	expectReject(t, "odd index length", v.Resolve(mapResolver{tixRef: ids[:3], tabRef: table}), CodeMalformedBody)
	expectOK(t, "resolve", v.Resolve(mapResolver{tixRef: ids, tabRef: table}))
	if v.Tiles().Mode() != TileIndexRawU16 || v.Tiles().At(0) != 5 || v.Section(0).Len() != 2 || v.Pending() != 0 {
		t.Fatalf("resolved %v %d", v.Tiles().Mode(), v.Tiles().At(0))
	}
}
