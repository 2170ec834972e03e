package wire

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func randomTensorSectionDescriptor(r *rand.Rand) TensorSectionDescriptor {
	d := TensorSectionDescriptor{
		RoleID: r16(r), CodecID: Codec(r8(r)), DTypeID: DType(r8(r)), LayoutID: Layout(r8(r)), ScalePolicy: r8(r),
		Flags: rBits(r, knownSectionFlags), ElementCountPerTile: r32(r), LengthTableBytes: r32(r) &^ 3, PayloadBytes: r32(r),
	}
	if d.Flags&SectionMixedCodec != 0 {
		d.CodecTableBytes = r32(r) | 1
	}
	if d.Flags&SectionFixedStride != 0 {
		d.PayloadStrideBytes = r32(r) | 1
	}
	return d
}

func TestTensorSectionDescriptorCodec(t *testing.T) {
	checkBlock(t, ParseTensorSectionDescriptor, randomTensorSectionDescriptor)
}

// randomSectionData returns a valid section of n tiles.
func randomSectionData(r *rand.Rand, role uint16, n int) SectionData {
	s := SectionData{RoleID: role, CodecID: Codec(r.IntN(3)), DTypeID: DType(r.IntN(8)), LayoutID: Layout(r.IntN(2)),
		ScalePolicy: uint8(r.IntN(2)), ElementCountPerTile: r32(r), Tiles: make([][]byte, n)}
	maxLen := []int{0, 1, 7, 64}[r.IntN(4)]
	if r.IntN(3) == 0 {
		s.Stride = uint32(maxLen + r.IntN(100))
		if s.Stride == 0 {
			s.Stride = 1
		}
	}
	for i := range s.Tiles {
		tile := make([]byte, r.IntN(maxLen+1))
		for j := range tile {
			tile[j] = r8(r)
		}
		s.Tiles[i] = tile
	}
	if r.IntN(2) == 0 {
		s.Codecs = make([]Codec, n)
		for i := range s.Codecs {
			s.Codecs[i] = s.CodecID
			if r.IntN(4) == 0 {
				s.Codecs[i] = Codec(r.IntN(3))
			}
		}
	}
	return s
}

func checkSectionTiles(t testing.TB, what string, got *TensorSection, want *SectionData) {
	t.Helper()
	if got.Len() != len(want.Tiles) || got.Desc.RoleID != want.RoleID || got.Desc.DTypeID != want.DTypeID ||
		got.Desc.LayoutID != want.LayoutID || got.Desc.ElementCountPerTile != want.ElementCountPerTile ||
		got.Desc.PayloadStrideBytes != want.Stride || got.Desc.ScalePolicy != want.ScalePolicy {
		t.Fatalf("%s: descriptor %+v for %d tiles of role %d", what, got.Desc, len(want.Tiles), want.RoleID)
	}
	tiles := got.AppendTiles(nil)
	for i := range want.Tiles {
		if !bytes.Equal(got.Tile(i), want.Tiles[i]) || !bytes.Equal(tiles[i], want.Tiles[i]) || got.TileLen(i) != len(want.Tiles[i]) {
			t.Fatalf("%s: tile %d = %x, want %x", what, i, got.Tile(i), want.Tiles[i])
		}
		wantCodec := want.CodecID
		if want.Codecs != nil {
			wantCodec = want.Codecs[i]
		}
		if got.TileCodec(i) != wantCodec {
			t.Fatalf("%s: tile %d codec %d, want %d", what, i, got.TileCodec(i), wantCodec)
		}
	}
}

func TestTensorSectionRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		n := r.IntN(20)
		s := randomSectionData(r, r16(r), n)
		b, err := AppendTensorSection(nil, &s)
		expectOK(t, "append", err)
		got, size, err := ParseTensorSection(append(b, 0xEE), n)
		expectOK(t, "parse", err)
		if size != len(b) {
			t.Fatalf("section of %d bytes consumed %d", len(b), size)
		}
		checkSectionTiles(t, "round trip", &got, &s)
		if (got.CodecTable != nil) != (got.Desc.Flags&SectionMixedCodec != 0) {
			t.Fatalf("codec table %x with flags %x", got.CodecTable, got.Desc.Flags)
		}
		for cut := range len(b) {
			_, _, err := ParseTensorSection(b[:cut], n)
			expectTruncated(t, "section", cut, len(b), err)
		}
	}
}

func TestTensorSectionRejects(t *testing.T) {
	// Two tiles [01] and [02 03], fixed stride 4, mixed codecs [2 7]: the
	// derived.submit_rs.tensor_section.mixed_codec_fixed_stride vector.
	s := SectionData{RoleID: 1, CodecID: 2, DTypeID: 3, LayoutID: 4, ElementCountPerTile: 16,
		Tiles: [][]byte{{1}, {2, 3}}, Codecs: []Codec{2, 7}, Stride: 4}
	valid, err := AppendTensorSection(nil, &s)
	expectOK(t, "valid", err)
	patch := func(off int, v uint32) []byte {
		b := bytes.Clone(valid)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	patch16 := func(off int, v uint16) []byte {
		b := bytes.Clone(valid)
		binary.LittleEndian.PutUint16(b[off:], v)
		return b
	}
	variable, _ := AppendTensorSection(nil, &SectionData{RoleID: 1, Tiles: [][]byte{{1}, {2, 3}}})
	vpatch := func(off int, v uint32) []byte {
		b := bytes.Clone(variable)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		n    int
	}{
		{"section_flags 0x4", patch16(6, 0x7), 2},
		{"reserved", patch(28, 1), 2},
		{"MIXED_CODEC without codec table", patch(12, 0), 2},
		{"codec table without MIXED_CODEC", patch16(6, uint16(SectionFixedStride)), 2},
		{"FIXED_STRIDE without stride", patch(24, 0), 2},
		{"stride without FIXED_STRIDE", patch16(6, uint16(SectionMixedCodec)), 2},
		{"length_table_bytes % 4", patch(16, 7), 2},
		{"codec table != tile_count", patch(12, 1), 2},
		{"length table != tile_count×4", valid, 3},
		{"fixed stride payload != n×stride", patch(20, 7), 2},
		{"tile longer than stride", patch(32+2, 5), 2},
		{"variable payload != Σ lengths", vpatch(32, 2), 2},
	} {
		_, _, err := ParseTensorSection(tc.b, tc.n)
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		if code, _ := CodeOf(err); code != CodeMalformedBody {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		s    SectionData
		n    int
	}{
		{"tiles != tile_count", SectionData{Tiles: [][]byte{{1}}}, 2},
		{"codecs != tile_count", SectionData{Tiles: [][]byte{{1}}, Codecs: []Codec{1, 2}}, 1},
		{"tile longer than stride", SectionData{Tiles: [][]byte{{1, 2}}, Stride: 1}, 1},
	} {
		_, err := tc.s.plan(0, tc.n)
		expectReject(t, tc.name, err, CodeMalformedBody)
	}
	// Codecs equal to the default write no codec table.
	same, _ := AppendTensorSection(nil, &SectionData{CodecID: 1, Tiles: [][]byte{{1}}, Codecs: []Codec{1}})
	if d, _, _ := ParseTensorSectionDescriptor(same); d.Flags != 0 || d.CodecTableBytes != 0 {
		t.Fatalf("uniform codecs wrote %+v", d)
	}
}

func TestSectionTable(t *testing.T) {
	sec := func(role uint16, tiles ...[]byte) []byte {
		b, err := AppendTensorSection(nil, &SectionData{RoleID: role, Tiles: tiles})
		expectOK(t, "append", err)
		return b
	}
	a := sec(1, []byte{1, 2, 3}) // 32 + 4 + 3 = 39 bytes: one pad byte follows
	b := sec(2, []byte{4})
	table := append(append(bytes.Clone(a), 0), b...)
	var dst [MaxSections]TensorSection
	expectOK(t, "valid", parseSectionTable(0, table, 0, 2, 1, dst[:]))
	if !bytes.Equal(dst[1].Tile(0), []byte{4}) {
		t.Fatalf("section 1 tile %x", dst[1].Tile(0))
	}
	for _, tc := range []struct {
		name  string
		table []byte
		count int
		code  ErrorCode
	}{
		{"equal roles", append(append(bytes.Clone(a), 0), sec(1, []byte{4})...), 2, CodeMalformedBody},
		{"descending roles", append(append(sec(3, []byte{1, 2, 3}), 0), b...), 2, CodeMalformedBody},
		{"non-zero padding", append(append(bytes.Clone(a), 9), b...), 2, CodeMalformedBody},
		{"missing padding", append(bytes.Clone(a), b...), 2, CodeMalformedBody},
		{"trailing bytes", append(bytes.Clone(table), 0), 2, CodeMalformedBody},
		{"padding after the last section", append(bytes.Clone(a), 0), 1, CodeMalformedBody},
		{"more sections than fit", table, MaxSections + 1, CodeLimitExceeded},
	} {
		expectReject(t, tc.name, parseSectionTable(0, tc.table, 0, tc.count, 1, dst[:]), tc.code)
	}
	for cut := range len(table) {
		err := parseSectionTable(0, table[:cut], 0, 2, 1, dst[:])
		if err == nil {
			t.Fatalf("table cut to %d accepted", cut)
		}
	}
}
