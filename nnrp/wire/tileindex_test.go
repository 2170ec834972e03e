package wire

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomTileSpec returns valid tile ids in a random mode.
func randomTileSpec(r *rand.Rand, mode TileIndexMode, maxTiles int) TileSpec {
	n := r.IntN(maxTiles + 1)
	switch mode {
	case TileIndexDenseRange:
		return TileRange(uint32(r.IntN(0x10000-n+1)), n)
	case TileIndexRawU16:
		ids := make([]uint16, n)
		for i := range ids {
			ids[i] = r16(r)
		}
		return TileList(mode, ids)
	}
	set := map[uint16]bool{}
	limit := 0x10000
	if r.IntN(2) == 0 {
		limit = 4 * (n + 1)
	}
	for len(set) < n && len(set) < limit {
		set[uint16(r.IntN(limit))] = true
	}
	ids := make([]uint16, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return TileList(mode, ids)
}

func specIDs(s TileSpec) []uint16 {
	if s.Mode != TileIndexDenseRange {
		return s.IDs
	}
	ids := make([]uint16, s.Count)
	for i := range ids {
		ids[i] = uint16(s.Base + uint32(i))
	}
	return ids
}

func TestTileIndexRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 800 {
		mode := TileIndexMode(i % 4)
		s := randomTileSpec(r, mode, []int{0, 1, 3, 70, 3000}[r.IntN(5)])
		b, err := AppendTileIndex(nil, s)
		expectOK(t, "encode", err)
		x, err := DecodeTileIndex(mode, s.Len(), s.Base, b)
		expectOK(t, "decode "+mode.String(), err)
		want := specIDs(s)
		if got := x.AppendIDs(nil); !slices.Equal(got, want) && len(want) > 0 {
			t.Fatalf("%s ids %v, want %v", mode, got, want)
		}
		for j := range want {
			if x.At(j) != want[j] {
				t.Fatalf("%s At(%d) = %d, want %d", mode, j, x.At(j), want[j])
			}
			if j > 8 {
				break // At is O(i) for DELTA/BITSET; the iterator covers the rest
			}
		}
		if x.Len() != len(want) || x.Mode() != mode || x.Base() != s.Base {
			t.Fatalf("Len %d Mode %v Base %d", x.Len(), x.Mode(), x.Base())
		}
		again, err := AppendTileIndex(nil, x.Spec(nil))
		expectOK(t, "re-encode", err)
		if !bytes.Equal(again, b) {
			t.Fatalf("%s re-encode %x, want %x", mode, again, b)
		}
		if mode != TileIndexDenseRange {
			for cut := range len(b) {
				if cut > 32 && cut < len(b)-32 {
					continue // long blocks: their ends suffice
				}
				_, err := DecodeTileIndex(mode, s.Len(), 0, b[:cut])
				expectTruncated(t, mode.String(), cut, len(b), err)
			}
		}
	}
}

func TestTileIndexIterAllocs(t *testing.T) {
	s := TileList(TileIndexBitset, []uint16{0, 3, 9, 100, 4000})
	b, _ := AppendTileIndex(nil, s)
	x, err := DecodeTileIndex(TileIndexBitset, 5, 0, b)
	expectOK(t, "decode", err)
	if n := testing.AllocsPerRun(100, func() {
		it := x.Iter()
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
		_, _ = DecodeTileIndex(TileIndexBitset, 5, 0, b)
	}); n != 0 {
		t.Fatalf("iteration allocates %v times", n)
	}
	var zero TileIndexIter
	if _, ok := zero.Next(); ok {
		t.Fatal("zero iterator yields an id")
	}
}

func TestTileIndexRejects(t *testing.T) {
	h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	for _, tc := range []struct {
		name string
		mode TileIndexMode
		n    int
		base uint32
		data []byte
	}{
		{"DENSE with bytes", TileIndexDenseRange, 1, 0, h("0000")},
		{"DENSE beyond u16", TileIndexDenseRange, 2, 0xFFFF, nil},
		{"RAW too long", TileIndexRawU16, 1, 0, h("010002")},
		{"DELTA too long", TileIndexDeltaU16, 1, 0, h("01000200")},
		{"DELTA zero delta", TileIndexDeltaU16, 2, 0, h("03000000")},
		{"DELTA overflow", TileIndexDeltaU16, 2, 0, h("fffe0002")},
		{"BITSET without tiles has bytes", TileIndexBitset, 0, 0, h("01")},
		{"BITSET trailing zero byte", TileIndexBitset, 3, 0, h("090200")},
		{"BITSET more ids than tiles", TileIndexBitset, 2, 0, h("0902")},
		{"BITSET beyond u16", TileIndexBitset, 1, 0, append(make([]byte, 8192), 1)},
		{"unknown mode", 4, 0, 0, nil},
		{"negative count", TileIndexRawU16, -1, 0, nil},
	} {
		_, err := DecodeTileIndex(tc.mode, tc.n, tc.base, tc.data)
		expectReject(t, tc.name, err, CodeMalformedBody)
	}
	_, err := DecodeTileIndex(TileIndexBitset, 4, 0, h("0902"))
	expectTruncated(t, "BITSET fewer ids than tiles", 2, 3, err)

	for _, tc := range []struct {
		name string
		s    TileSpec
		code ErrorCode
	}{
		{"DENSE with ids", TileSpec{Mode: TileIndexDenseRange, IDs: []uint16{1}}, CodeMalformedBody},
		{"DENSE beyond u16", TileRange(0xFFFF, 2), CodeMalformedBody},
		{"DENSE too many", TileRange(0, 0x10000), CodeLimitExceeded},
		{"RAW with base", TileSpec{Mode: TileIndexRawU16, Base: 1, IDs: []uint16{1}}, CodeMalformedBody},
		{"DELTA not increasing", TileList(TileIndexDeltaU16, []uint16{3, 3}), CodeMalformedBody},
		{"BITSET not increasing", TileList(TileIndexBitset, []uint16{4, 3}), CodeMalformedBody},
		{"unknown mode", TileList(7, []uint16{1}), CodeMalformedBody},
	} {
		_, err := AppendTileIndex(nil, tc.s)
		expectReject(t, tc.name, err, tc.code)
	}
}
