package wire

import (
	"encoding/binary"
	"math/bits"
)

// TileIndexMode is FRAME_SUBMIT.tile_index_mode: how the tile index block
// encodes the tile ids (D§6). Tile ids are u16.
type TileIndexMode uint8

// Tile index modes.
const (
	// TileIndexDenseRange: no bytes; ids are tile_base_id + i.
	TileIndexDenseRange TileIndexMode = 0
	// TileIndexRawU16: each id as u16, in tile order, any order.
	TileIndexRawU16 TileIndexMode = 1
	// TileIndexDeltaU16: first id, then differences to the previous id;
	// strictly increasing.
	TileIndexDeltaU16 TileIndexMode = 2
	// TileIndexBitset: bit id%8 of byte id/8, max_id/8+1 bytes; ids
	// ascending.
	TileIndexBitset TileIndexMode = 3
)

func (m TileIndexMode) String() string {
	switch m {
	case TileIndexDenseRange:
		return "dense_range"
	case TileIndexRawU16:
		return "raw_u16"
	case TileIndexDeltaU16:
		return "delta_u16"
	case TileIndexBitset:
		return "bitset"
	}
	return "tile_index_mode(" + itoa(uint64(m)) + ")"
}

// maxTiles is the largest tile_count (u16).
const maxTiles = 0xFFFF

// TileIndex is a decoded, validated tile index (D§6): the ids of a
// message's tiles in tile order, aliasing the tile index block. A TileIndex
// is an immutable value; any number of goroutines may read it.
//
// Cost: At is O(1) for DENSE_RANGE and RAW_U16, O(i) for DELTA_U16 and
// BITSET; walking the ids in order with Iter is O(1) amortised per tile in
// every mode.
type TileIndex struct {
	mode TileIndexMode
	n    int
	base uint32
	data []byte
}

// DecodeTileIndex validates a tile index block of the given mode holding n
// ids (D§6): DENSE_RANGE has no bytes and base+n−1 ≤ 0xFFFF; RAW_U16 has 2n
// bytes in any order; DELTA_U16 has 2n bytes, strictly increasing ids without
// u16 overflow; BITSET has exactly max_id/8+1 bytes (so its last byte is
// non-zero) with n bits set, and no bytes when n is 0. base is only used by
// DENSE_RANGE. DecodeTileIndex does not allocate; the result aliases data.
func DecodeTileIndex(mode TileIndexMode, n int, base uint32, data []byte) (TileIndex, error) {
	return decodeTileIndex(0, mode, n, base, data)
}

func decodeTileIndex(t MessageType, mode TileIndexMode, n int, base uint32, data []byte) (TileIndex, error) {
	x := TileIndex{mode: mode, n: n, base: base, data: data}
	if n < 0 || n > maxTiles {
		return TileIndex{}, errInvalid(t, "tile_count", "%d tiles", n)
	}
	switch mode {
	case TileIndexDenseRange:
		if len(data) != 0 {
			return TileIndex{}, errInvalid(t, "tile_index_bytes", "DENSE_RANGE carries no index bytes, got %d", len(data))
		}
		if n > 0 && uint64(base)+uint64(n)-1 > maxTiles {
			return TileIndex{}, errInvalid(t, "tile_base_id", "tiles %d..%d exceed the u16 id space", base, uint64(base)+uint64(n)-1)
		}
		x.data = nil
	case TileIndexRawU16, TileIndexDeltaU16:
		if len(data) < 2*n {
			return TileIndex{}, errShort(t, "tile_index", 2*n, len(data))
		}
		if len(data) != 2*n {
			return TileIndex{}, errInvalid(t, "tile_index_bytes", "%s with %d tiles needs %d bytes, got %d", mode, n, 2*n, len(data))
		}
		if mode == TileIndexDeltaU16 && n > 0 {
			id := uint32(binary.LittleEndian.Uint16(data))
			for i := 2; i < len(data); i += 2 {
				d := uint32(binary.LittleEndian.Uint16(data[i:]))
				if d == 0 {
					return TileIndex{}, errInvalid(t, "tile_index", "DELTA_U16 delta %d is 0: ids must strictly increase", i/2)
				}
				if id += d; id > maxTiles {
					return TileIndex{}, errInvalid(t, "tile_index", "DELTA_U16 id %d overflows u16", i/2)
				}
			}
		}
	case TileIndexBitset:
		if n == 0 {
			if len(data) != 0 {
				return TileIndex{}, errInvalid(t, "tile_index_bytes", "BITSET without tiles carries %d bytes", len(data))
			}
			break
		}
		if len(data) > (maxTiles>>3)+1 {
			return TileIndex{}, errInvalid(t, "tile_index_bytes", "BITSET of %d bytes exceeds the u16 id space", len(data))
		}
		set := 0
		for rest := data; len(rest) > 0; {
			if len(rest) >= 8 {
				set += bits.OnesCount64(binary.LittleEndian.Uint64(rest))
				rest = rest[8:]
			} else {
				set += bits.OnesCount8(rest[0])
				rest = rest[1:]
			}
		}
		switch {
		case set < n: // a cut-short bitset
			return TileIndex{}, errTruncated(t, "tile_index", "BITSET holds %d of %d ids", set, n)
		case set > n:
			return TileIndex{}, errInvalid(t, "tile_index", "BITSET has %d ids, tile_count is %d", set, n)
		case data[len(data)-1] == 0:
			return TileIndex{}, errInvalid(t, "tile_index", "BITSET is longer than max_id/8+1 (last byte zero)")
		}
	default:
		return TileIndex{}, errInvalid(t, "tile_index_mode", "unknown value %d", uint8(mode))
	}
	return x, nil
}

// Mode returns the index's encoding.
func (x TileIndex) Mode() TileIndexMode { return x.mode }

// Len returns the number of tiles.
func (x TileIndex) Len() int { return x.n }

// Base returns tile_base_id for DENSE_RANGE (0 in other modes).
func (x TileIndex) Base() uint32 {
	if x.mode == TileIndexDenseRange {
		return x.base
	}
	return 0
}

// Bytes returns the encoded block (empty for DENSE_RANGE).
func (x TileIndex) Bytes() []byte { return x.data }

// At returns the id of tile i (0 ≤ i < Len()). See TileIndex for its cost.
func (x TileIndex) At(i int) uint16 {
	switch x.mode {
	case TileIndexDenseRange:
		return uint16(x.base + uint32(i))
	case TileIndexRawU16:
		return binary.LittleEndian.Uint16(x.data[2*i:])
	}
	it := x.Iter()
	var id uint16
	for range i + 1 {
		id, _ = it.Next()
	}
	return id
}

// Iter returns an iterator over the ids in tile order.
func (x TileIndex) Iter() TileIndexIter { return TileIndexIter{x: x} }

// AppendIDs appends every id in tile order to dst.
func (x TileIndex) AppendIDs(dst []uint16) []uint16 {
	it := x.Iter()
	for id, ok := it.Next(); ok; id, ok = it.Next() {
		dst = append(dst, id)
	}
	return dst
}

// Spec returns the TileSpec that re-encodes x; ids is scratch space for the
// explicit modes (it is reused and returned inside the spec).
func (x TileIndex) Spec(ids []uint16) TileSpec {
	if x.mode == TileIndexDenseRange {
		return TileRange(x.base, x.n)
	}
	return TileList(x.mode, x.AppendIDs(ids[:0]))
}

// TileIndexIter walks a TileIndex in tile order without allocating, O(1)
// amortised per id. The zero value is an exhausted iterator.
type TileIndexIter struct {
	x    TileIndex
	i    int    // ids returned so far
	id   uint32 // last id (DELTA_U16)
	off  int    // BITSET: byte holding the next candidate bits
	bits uint8  // BITSET: unread set bits of data[off]
}

// Next returns the next id; ok is false after the last one.
func (it *TileIndexIter) Next() (id uint16, ok bool) {
	x := &it.x
	if it.i >= x.n {
		return 0, false
	}
	i := it.i
	it.i++
	switch x.mode {
	case TileIndexDenseRange:
		return uint16(x.base + uint32(i)), true
	case TileIndexRawU16:
		return binary.LittleEndian.Uint16(x.data[2*i:]), true
	case TileIndexDeltaU16:
		v := uint32(binary.LittleEndian.Uint16(x.data[2*i:]))
		if i == 0 {
			it.id = v
		} else {
			it.id += v
		}
		return uint16(it.id), true
	}
	// BITSET
	if i == 0 {
		it.off, it.bits = 0, x.data[0]
	}
	for it.bits == 0 {
		it.off++
		it.bits = x.data[it.off]
	}
	b := bits.TrailingZeros8(it.bits)
	it.bits &= it.bits - 1
	return uint16(it.off*8 + b), true
}

// TileSpec names the tiles of a message to build: DENSE_RANGE tiles Base,
// Base+1, … Base+Count−1 (IDs nil), or an explicit id list for the other
// modes (Base and Count zero). RESULT_PUSH accepts only DENSE_RANGE and
// RAW_U16 (D§6).
type TileSpec struct {
	Mode  TileIndexMode
	Base  uint32   // DENSE_RANGE: first tile id
	Count int      // DENSE_RANGE: number of tiles
	IDs   []uint16 // RAW_U16, DELTA_U16, BITSET: ids in tile order
}

// TileRange returns the DENSE_RANGE spec of n tiles starting at base.
func TileRange(base uint32, n int) TileSpec {
	return TileSpec{Mode: TileIndexDenseRange, Base: base, Count: n}
}

// TileList returns the spec of an explicit id list in the given mode.
func TileList(mode TileIndexMode, ids []uint16) TileSpec {
	return TileSpec{Mode: mode, IDs: ids}
}

// Len returns the number of tiles.
func (s *TileSpec) Len() int {
	if s.Mode == TileIndexDenseRange {
		return s.Count
	}
	return len(s.IDs)
}

// plan validates s and returns its tile count and encoded index length.
func (s *TileSpec) plan(t MessageType) (n, indexBytes int, err error) {
	if s.Mode == TileIndexDenseRange {
		if s.IDs != nil {
			return 0, 0, errInvalid(t, "tile_index", "DENSE_RANGE takes Base and Count, not an id list")
		}
		if s.Count < 0 || s.Count > maxTiles {
			return 0, 0, errCode(t, CodeLimitExceeded, "tile_count", "%d tiles", s.Count)
		}
		if s.Count > 0 && uint64(s.Base)+uint64(s.Count)-1 > maxTiles {
			return 0, 0, errInvalid(t, "tile_base_id", "tiles %d..%d exceed the u16 id space", s.Base, uint64(s.Base)+uint64(s.Count)-1)
		}
		return s.Count, 0, nil
	}
	if s.Base != 0 || s.Count != 0 {
		return 0, 0, errInvalid(t, "tile_index", "%s takes an id list, not Base/Count", s.Mode)
	}
	n = len(s.IDs)
	if n > maxTiles {
		return 0, 0, errCode(t, CodeLimitExceeded, "tile_count", "%d tiles", n)
	}
	switch s.Mode {
	case TileIndexRawU16:
		return n, 2 * n, nil
	case TileIndexDeltaU16, TileIndexBitset:
		for i := 1; i < n; i++ {
			if s.IDs[i] <= s.IDs[i-1] {
				return 0, 0, errInvalid(t, "tile_index", "%s ids must strictly increase (id %d after %d)", s.Mode, s.IDs[i], s.IDs[i-1])
			}
		}
		if s.Mode == TileIndexDeltaU16 {
			return n, 2 * n, nil
		}
		if n == 0 {
			return 0, 0, nil
		}
		return n, int(s.IDs[n-1])/8 + 1, nil
	}
	return 0, 0, errInvalid(t, "tile_index_mode", "unknown value %d", uint8(s.Mode))
}

// appendIndex appends the encoded index; s must have passed plan.
func (s *TileSpec) appendIndex(b []byte, indexBytes int) []byte {
	switch s.Mode {
	case TileIndexRawU16:
		for _, id := range s.IDs {
			b = binary.LittleEndian.AppendUint16(b, id)
		}
	case TileIndexDeltaU16:
		prev := uint16(0)
		for _, id := range s.IDs {
			b = binary.LittleEndian.AppendUint16(b, id-prev)
			prev = id
		}
	case TileIndexBitset:
		start := len(b)
		b = appendZeros(b, indexBytes)
		for _, id := range s.IDs {
			b[start+int(id>>3)] |= 1 << (id & 7)
		}
	}
	return b
}

// AppendTileIndex validates s and appends its tile index block (D§6) to b.
// DENSE_RANGE appends nothing; its ids travel as tile_base_id.
func AppendTileIndex(b []byte, s TileSpec) ([]byte, error) {
	_, size, err := s.plan(0)
	if err != nil {
		return b, err
	}
	return s.appendIndex(b, size), nil
}
