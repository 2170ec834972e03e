package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
)

// resultCase is a random valid result: Build's arguments.
type resultCase struct {
	h        Header
	m        ResultPush
	tiles    TileSpec
	sections []SectionData
	typed    []TypedPayload
}

func randomResult(r *rand.Rand, maxTiles int) resultCase {
	c := resultCase{
		h: Header{Flags: rBits(r, knownFlags), SessionID: r32(r), FrameID: r32(r) | 1, ViewID: r16(r), TraceID: r64(r)},
		m: ResultPush{StatusCode: r16(r), ActiveProfileID: ProfileID(r.IntN(3)), InferenceMS: r16(r), QueueMS: r16(r),
			ServerTotalMS: r16(r), Class: rBelow(r, ResultClass(4)), AppliedBudgetPolicy: rBits(r, knownBudgetPolicy)},
		typed: randomTypedPayloads(r, 3),
	}
	if len(c.typed) == 0 || r.IntN(2) == 0 {
		c.tiles = randomTileSpec(r, rBelow(r, TileIndexMode(2)), maxTiles)
		c.sections = randomSections(r, c.tiles.Len(), 3)
	}
	n := c.tiles.Len()
	tensor := n > 0 || len(c.sections) > 0
	if c.m.Class == ClassPartial && n == 0 || !tensor && c.m.Class == ClassPartial {
		c.m.Class = ClassComplete
	}
	if n > 0 {
		c.m.Flags = rBits(r, knownResultFlags)
		if c.m.Class == ClassPartial || c.m.Flags&ResultFlagPartial != 0 {
			c.m.DroppedTileCount = uint16(1 + r.IntN(n))
		}
	} else {
		c.m.Flags = rBits(r, ResultFlagStale|ResultFlagFallback)
	}
	if c.m.Class == ClassStaleReuse || c.m.Flags&ResultFlagStale != 0 {
		c.m.ReusedFrameID = r32(r) | 1
	}
	return c
}

func (c *resultCase) build(b *ResultBuilder) ([][]byte, error) {
	return b.Build(c.h, c.m, c.tiles, c.sections, c.typed)
}

func decodeResult(t testing.TB, pkt []byte) (*ResultView, error) {
	t.Helper()
	p, n, err := ParsePacket(pkt, 0)
	if err != nil {
		return nil, err
	}
	if n != len(pkt) {
		t.Fatalf("packet of %d bytes framed as %d", len(pkt), n)
	}
	v := new(ResultView)
	return v, v.Decode(&p, Limits{})
}

func checkResultView(t testing.TB, v *ResultView, c *resultCase) {
	t.Helper()
	h, m := v.Header, v.Meta
	if h.Flags != c.h.Flags || h.SessionID != c.h.SessionID || h.FrameID != c.h.FrameID || h.TraceID != c.h.TraceID {
		t.Fatalf("header %+v, built %+v", h, c.h)
	}
	n := c.tiles.Len()
	if m.Class != c.m.Class || m.Flags != c.m.Flags || m.ReusedFrameID != c.m.ReusedFrameID || m.StatusCode != c.m.StatusCode ||
		m.InferenceMS != c.m.InferenceMS || int(m.TileCount) != n || int(m.SectionCount) != len(c.sections) ||
		m.DroppedTileCount != c.m.DroppedTileCount || int(m.CoveredTileCount)+int(m.DroppedTileCount) != n && n > 0 {
		t.Fatalf("metadata %+v, built %+v", m, c.m)
	}
	if got := v.Tiles().AppendIDs(nil); n > 0 && !slices.Equal(got, specIDs(c.tiles)) {
		t.Fatalf("tile ids %v, built %v", got, specIDs(c.tiles))
	}
	if v.SectionCount() != len(c.sections) {
		t.Fatalf("%d sections, built %d", v.SectionCount(), len(c.sections))
	}
	for k := range c.sections {
		checkSectionTiles(t, "result section", v.Section(k), &c.sections[k])
	}
	checkTyped(t, v.TypedFrames(), c.typed)
}

func TestResultBuilderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	var b ResultBuilder
	for i := range 1500 {
		c := randomResult(r, []int{0, 1, 4, 64}[r.IntN(4)])
		b.LegacyRaw = i%4 == 0 && len(c.typed) == 0 && (c.tiles.Len() > 0 || len(c.sections) > 0)
		segs, err := c.build(&b)
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		// Every non-empty tile is its own segment, aliasing the caller's
		// memory.
		for _, s := range c.sections {
			for _, tile := range s.Tiles {
				if len(tile) > 0 && !slices.ContainsFunc(segs, func(seg []byte) bool { return &seg[0] == &tile[0] && len(seg) == len(tile) }) {
					t.Fatalf("build %d: a tile was copied", i)
				}
			}
		}
		v, err := decodeResult(t, bytes.Join(segs, nil))
		if err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
		if want := map[bool]BodyForm{false: BodyFormPrelude, true: BodyFormLegacyRaw}[b.LegacyRaw]; v.Form() != want {
			t.Fatalf("%d: form %v, want %v", i, v.Form(), want)
		}
		checkResultView(t, v, &c)
	}
}

// TestResultBuilderSegments checks the vectored form: net.Buffers writes the
// same bytes, and a fixed stride's long zero tail is a shared segment.
func TestResultBuilderSegments(t *testing.T) {
	tiles := [][]byte{[]byte("abc"), []byte("defgh")}
	var b ResultBuilder
	segs, err := b.Build(Header{SessionID: 1, FrameID: 2}, ResultPush{}, TileRange(10, 2),
		[]SectionData{{RoleID: 0x100, Tiles: tiles, Stride: 1000}}, nil)
	expectOK(t, "build", err)
	var w bytes.Buffer
	bufs := net.Buffers(slices.Clone(segs))
	if _, err := bufs.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), bytes.Join(segs, nil)) {
		t.Fatal("net.Buffers wrote other bytes")
	}
	v, err := decodeResult(t, w.Bytes())
	expectOK(t, "decode", err)
	if s := v.Section(0); s.Desc.PayloadBytes != 2000 || !bytes.Equal(s.Tile(1), tiles[1]) || !allZero(s.Payload[3:1000]) {
		t.Fatalf("fixed stride section %+v", s.Desc)
	}
	if v.Tiles().At(1) != 11 || v.Meta.CoveredTileCount != 2 || v.Meta.PayloadKindBitmap != PayloadTensor {
		t.Fatalf("metadata %+v", v.Meta)
	}
}

// TestResultBuilderWorkedExample rebuilds worked.result_push.* (D§8.4) from
// the tensor values.
func TestResultBuilderWorkedExample(t *testing.T) {
	tile := make([]byte, 0, 192)
	for i := range 48 {
		tile = binary.LittleEndian.AppendUint32(tile, math.Float32bits(float32(i)*0.5))
	}
	h := Header{SessionID: 1, FrameID: 1}
	m := ResultPush{ActiveProfileID: ProfileTensor, InferenceMS: 7, QueueMS: 1, ServerTotalMS: 9}
	sections := []SectionData{{RoleID: 0x100, DTypeID: DTypeFloat32, LayoutID: LayoutNCHW, ElementCountPerTile: 48, Tiles: [][]byte{tile}}}
	for _, v := range loadVectors(t, "data.json") {
		var b ResultBuilder
		switch v.Name {
		case "worked.result_push.fp32_1x3x4x4_prelude_form":
		case "worked.result_push.fp32_1x3x4x4_legacy_raw_form":
			b.LegacyRaw = true
		default:
			continue
		}
		segs, err := b.Build(h, m, TileRange(0, 1), sections, nil)
		expectOK(t, v.Name, err)
		if got := hex.EncodeToString(bytes.Join(segs, nil)); got != v.Hex {
			t.Fatalf("%s:\n got %s\nwant %s", v.Name, got, v.Hex)
		}
	}
}

func TestResultBuilderRejects(t *testing.T) {
	tiles := TileRange(0, 2)
	sec := []SectionData{{RoleID: 1, Tiles: [][]byte{{1}, {2}}}}
	tok := []TypedPayload{TypedPayloadTokenChunk([]byte("x"))}
	for _, tc := range []struct {
		name     string
		m        ResultPush
		tiles    TileSpec
		sections []SectionData
		typed    []TypedPayload
		legacy   bool
		h        Header
		code     ErrorCode
	}{
		{name: "DELTA_U16 tiles", tiles: TileList(TileIndexDeltaU16, []uint16{1, 2}), sections: sec, code: CodeMalformedBody},
		{name: "BITSET tiles", tiles: TileList(TileIndexBitset, []uint16{1, 2}), sections: sec, code: CodeMalformedBody},
		{name: "section tiles != tile count", tiles: TileRange(0, 3), sections: sec, code: CodeMalformedBody},
		{name: "roles not increasing", tiles: tiles, sections: append(slices.Clone(sec), sec[0]), code: CodeMalformedBody},
		{name: "R2 reused without stale", m: ResultPush{ReusedFrameID: 4}, tiles: tiles, sections: sec, code: CodeMalformedBody},
		{name: "R2 stale without reused", m: ResultPush{Class: ClassStaleReuse}, tiles: tiles, sections: sec, code: CodeMalformedBody},
		{name: "R3 covered + dropped != tiles", m: ResultPush{CoveredTileCount: 1}, tiles: tiles, sections: sec, code: CodeMalformedBody},
		{name: "R3 dropped > tiles", m: ResultPush{DroppedTileCount: 3}, tiles: tiles, sections: sec, code: CodeMalformedBody},
		{name: "R4 partial without drops", m: ResultPush{Class: ClassPartial}, tiles: tiles, sections: sec, code: CodeMalformedBody},
		{name: "R1 non-tensor with drops", m: ResultPush{DroppedTileCount: 1}, typed: tok, code: CodeMalformedBody},
		{name: "R7 tensor typed payload", tiles: tiles, sections: sec, typed: []TypedPayload{{Kind: PayloadTensor}}, code: CodeMalformedBody},
		{name: "R7 two kinds in one payload", typed: []TypedPayload{{ProfileID: 3, Kind: PayloadAudioChunk | PayloadVideoChunk}}, code: CodeMalformedBody},
		{name: "legacy with typed payloads", tiles: tiles, sections: sec, typed: tok, legacy: true, code: CodeMalformedBody},
		{name: "legacy without tensor content", legacy: true, code: CodeMalformedBody},
		{name: "bad header flags", h: Header{Flags: 0x40}, tiles: tiles, sections: sec, code: CodeMalformedHeader},
	} {
		b := ResultBuilder{LegacyRaw: tc.legacy}
		segs, err := b.Build(tc.h, tc.m, tc.tiles, tc.sections, tc.typed)
		expectReject(t, tc.name, err, tc.code)
		if segs != nil {
			t.Fatalf("%s: segments returned with an error", tc.name)
		}
	}
	// Derived fields: covered defaults to tile_count − dropped; the bitmap
	// and counts follow the arguments, whatever the caller put there.
	var b ResultBuilder
	segs, err := b.Build(Header{}, ResultPush{Class: ClassPartial, Flags: ResultFlagPartial, DroppedTileCount: 1,
		PayloadKindBitmap: PayloadOpaqueBytes, PayloadFrameCount: 9, SectionCount: 5, TileIndexBytes: 3},
		TileList(TileIndexRawU16, []uint16{7, 3}), sec, tok)
	expectOK(t, "derived", err)
	v, err := decodeResult(t, bytes.Join(segs, nil))
	expectOK(t, "decode", err)
	if m := v.Meta; m.CoveredTileCount != 1 || m.PayloadKindBitmap != PayloadTensor|PayloadTokenChunk || m.PayloadFrameCount != 1 ||
		m.SectionCount != 1 || m.TileCount != 2 || m.TileIndexBytes != 4 || m.TileBaseID != 0 {
		t.Fatalf("derived metadata %+v", m)
	}
}

// sixtyFourTiles is the benchmark result: 64 tiles of 4 KiB in one
// variable-stride section, aliasing a staging buffer.
func sixtyFourTiles() (TileSpec, []SectionData) {
	staging := make([]byte, 64*4096)
	tiles := make([][]byte, 64)
	for i := range tiles {
		tiles[i] = staging[i*4096 : (i+1)*4096]
	}
	return TileRange(0, 64), []SectionData{{RoleID: 0x100, DTypeID: DTypeFloat16, LayoutID: LayoutNCHW,
		ElementCountPerTile: 2048, Tiles: tiles}}
}

func TestResultBuilderAllocs(t *testing.T) {
	tiles, sections := sixtyFourTiles()
	h := Header{SessionID: 1, FrameID: 7}
	m := ResultPush{ActiveProfileID: ProfileTensor}
	var b ResultBuilder
	if _, err := b.Build(h, m, tiles, sections, nil); err != nil { // warm up
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := b.Build(h, m, tiles, sections, nil); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("warm ResultBuilder.Build of 64 tiles allocates %v times per run", n)
	}
}

func BenchmarkResultBuild64Tiles(b *testing.B) {
	tiles, sections := sixtyFourTiles()
	h := Header{SessionID: 1, FrameID: 7}
	m := ResultPush{ActiveProfileID: ProfileTensor}
	var rb ResultBuilder
	b.ReportAllocs()
	b.SetBytes(64 * 4096)
	for b.Loop() {
		if _, err := rb.Build(h, m, tiles, sections, nil); err != nil {
			b.Fatal(err)
		}
	}
}
