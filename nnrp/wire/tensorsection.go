package wire

import "encoding/binary"

// DType is a tensor section's dtype_id (D§5.4). The registry is
// informative: other values pass through unless the handshake's dtype
// bitmap excludes them.
type DType uint8

// Element types (DOC preview1 §12.2).
const (
	DTypeFloat16    DType = 0
	DTypeFloat32    DType = 1
	DTypeFloat8E4M3 DType = 2
	DTypeFloat8E5M2 DType = 3
	DTypeInt8       DType = 4
	DTypeUint8      DType = 5
	DTypeInt16      DType = 6
	DTypeUint16     DType = 7
)

// Layout is a tensor section's layout_id: the axis order inside a tile
// (D§5.4, D§5.6).
type Layout uint8

// Layouts.
const (
	LayoutNHWC Layout = 0
	LayoutNCHW Layout = 1
)

// Codec is a tensor section's codec_id, the encoding of a tile's bytes
// (D§5.4). Values beyond LZ4 are undefined by the spec and pass through.
type Codec uint8

// Codecs.
const (
	CodecRaw Codec = 0
	CodecLZ4 Codec = 1 // LZ4 block
)

// SectionFlags is TensorSectionDescriptor.section_flags (D§5.2).
type SectionFlags uint16

// Section flags. Other bits are rejected.
const (
	// SectionMixedCodec: a codec table gives each tile's codec.
	SectionMixedCodec SectionFlags = 0x1
	// SectionFixedStride: tile i occupies [i·stride, (i+1)·stride).
	SectionFixedStride SectionFlags = 0x2

	knownSectionFlags SectionFlags = 0x3
)

// TensorSectionDescriptorLen is the size of a tensor section descriptor.
const TensorSectionDescriptorLen = 32

// TensorSectionDescriptor opens one tensor section (32 bytes, D§5.2). The
// section is descriptor ‖ codec table ‖ length table ‖ payload blob.
//
// Stand-alone rules: known flags, reserved zero, codec_table_bytes non-zero
// iff MIXED_CODEC, payload_stride_bytes non-zero iff FIXED_STRIDE, and
// length_table_bytes a multiple of 4. The tile-count rules are applied when
// the section is parsed (ParseTensorSection).
type TensorSectionDescriptor struct {
	RoleID      uint16       `json:"role_id"` // strictly increasing across sections
	CodecID     Codec        `json:"codec_id"`
	DTypeID     DType        `json:"dtype_id"`
	LayoutID    Layout       `json:"layout_id"`
	ScalePolicy uint8        `json:"scale_policy"` // 0 none; other values application-defined
	Flags       SectionFlags `json:"section_flags"`
	// ElementCountPerTile is the element count of one uncompressed tile.
	ElementCountPerTile uint32 `json:"element_count_per_tile"`
	CodecTableBytes     uint32 `json:"codec_table_bytes"`  // tile_count when MIXED_CODEC, else 0
	LengthTableBytes    uint32 `json:"length_table_bytes"` // tile_count × 4
	PayloadBytes        uint32 `json:"payload_bytes"`
	PayloadStrideBytes  uint32 `json:"payload_stride_bytes"` // non-zero iff FIXED_STRIDE
}

// Len returns 32.
func (*TensorSectionDescriptor) Len() int { return TensorSectionDescriptorLen }

// SectionBytes returns the length of the whole section the descriptor opens.
func (d *TensorSectionDescriptor) SectionBytes() uint64 {
	return TensorSectionDescriptorLen + uint64(d.CodecTableBytes) + uint64(d.LengthTableBytes) + uint64(d.PayloadBytes)
}

func (d *TensorSectionDescriptor) validate(t MessageType) error {
	if err := checkMask(t, "section.section_flags", d.Flags, knownSectionFlags); err != nil {
		return err
	}
	if (d.Flags&SectionMixedCodec != 0) != (d.CodecTableBytes != 0) {
		return errInvalid(t, "section.codec_table_bytes", "is %d; must be non-zero exactly when MIXED_CODEC is set", d.CodecTableBytes)
	}
	if (d.Flags&SectionFixedStride != 0) != (d.PayloadStrideBytes != 0) {
		return errInvalid(t, "section.payload_stride_bytes", "is %d; must be non-zero exactly when FIXED_STRIDE is set", d.PayloadStrideBytes)
	}
	if d.LengthTableBytes%4 != 0 {
		return errInvalid(t, "section.length_table_bytes", "%d is not a multiple of 4", d.LengthTableBytes)
	}
	return nil
}

// Append validates d and appends its 32 bytes to b.
func (d *TensorSectionDescriptor) Append(b []byte) ([]byte, error) {
	if err := d.validate(0); err != nil {
		return b, err
	}
	return d.appendUnchecked(b), nil
}

func (d *TensorSectionDescriptor) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, d.RoleID)
	b = append(b, byte(d.CodecID), byte(d.DTypeID), byte(d.LayoutID), d.ScalePolicy)
	b = binary.LittleEndian.AppendUint16(b, uint16(d.Flags))
	b = binary.LittleEndian.AppendUint32(b, d.ElementCountPerTile)
	b = binary.LittleEndian.AppendUint32(b, d.CodecTableBytes)
	b = binary.LittleEndian.AppendUint32(b, d.LengthTableBytes)
	b = binary.LittleEndian.AppendUint32(b, d.PayloadBytes)
	b = binary.LittleEndian.AppendUint32(b, d.PayloadStrideBytes)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return b
}

// ParseTensorSectionDescriptor decodes and validates a section descriptor
// from the start of b (stand-alone rules).
func ParseTensorSectionDescriptor(b []byte) (TensorSectionDescriptor, int, error) {
	return parseTensorSectionDescriptor(0, b)
}

func parseTensorSectionDescriptor(t MessageType, b []byte) (TensorSectionDescriptor, int, error) {
	if len(b) < TensorSectionDescriptorLen {
		return TensorSectionDescriptor{}, 0, errShort(t, "section", TensorSectionDescriptorLen, len(b))
	}
	d := TensorSectionDescriptor{
		RoleID:              binary.LittleEndian.Uint16(b[0:]),
		CodecID:             Codec(b[2]),
		DTypeID:             DType(b[3]),
		LayoutID:            Layout(b[4]),
		ScalePolicy:         b[5],
		Flags:               SectionFlags(binary.LittleEndian.Uint16(b[6:])),
		ElementCountPerTile: binary.LittleEndian.Uint32(b[8:]),
		CodecTableBytes:     binary.LittleEndian.Uint32(b[12:]),
		LengthTableBytes:    binary.LittleEndian.Uint32(b[16:]),
		PayloadBytes:        binary.LittleEndian.Uint32(b[20:]),
		PayloadStrideBytes:  binary.LittleEndian.Uint32(b[24:]),
	}
	if err := firstErr(
		checkZero(t, "section.reserved", binary.LittleEndian.Uint32(b[28:])),
		d.validate(t),
	); err != nil {
		return TensorSectionDescriptor{}, 0, err
	}
	return d, TensorSectionDescriptorLen, nil
}

// TensorSection is one parsed, validated tensor section. Its slices alias
// the packet (or the resolved section table object); it is immutable after
// parsing and safe for concurrent readers.
//
// Tile i's bytes: Tile(i) is O(1) with a fixed stride and O(i) otherwise
// (it sums the lengths before i); to walk a variable-stride section use
// Tiles (O(1) per tile) or AppendTiles (O(n) once).
type TensorSection struct {
	Desc        TensorSectionDescriptor
	CodecTable  []byte // one codec id per tile; nil unless MIXED_CODEC
	LengthTable []byte // tile_count little-endian u32 lengths
	Payload     []byte // the payload blob
}

// ParseTensorSection parses one section of tileCount tiles from the start
// of b and returns it with its length (D§5.2): codec table of exactly
// tileCount bytes iff MIXED_CODEC; length table of exactly tileCount × 4
// bytes; payload_bytes = Σ lengths (variable stride) or tileCount × stride
// with every length ≤ stride (fixed stride). It reads only the descriptor
// and the tables, so its cost is O(tileCount) whatever the payload size.
//
// The spec states both "length_table_bytes is a multiple of 4" and "every
// section MUST have exactly tile_count length entries"; the first is the
// descriptor's shape rule and the second the section rule, so exactly
// tileCount × 4 is required. The unused tail of a fixed-stride slot should be
// zero but is not checked, to keep parsing independent of the payload size.
func ParseTensorSection(b []byte, tileCount int) (TensorSection, int, error) {
	return parseTensorSection(0, b, tileCount)
}

func parseTensorSection(t MessageType, b []byte, n int) (TensorSection, int, error) {
	d, _, err := parseTensorSectionDescriptor(t, b)
	if err != nil {
		return TensorSection{}, 0, err
	}
	if d.Flags&SectionMixedCodec != 0 && uint64(d.CodecTableBytes) != uint64(n) {
		return TensorSection{}, 0, errInvalid(t, "section.codec_table_bytes", "%d bytes for %d tiles", d.CodecTableBytes, n)
	}
	if uint64(d.LengthTableBytes) != 4*uint64(n) {
		return TensorSection{}, 0, errInvalid(t, "section.length_table_bytes", "%d bytes for %d tiles", d.LengthTableBytes, n)
	}
	size := d.SectionBytes()
	if size > uint64(len(b)) {
		return TensorSection{}, 0, errShort(t, "section", int(min(size, maxU32+64)), len(b))
	}
	ct := TensorSectionDescriptorLen + int(d.CodecTableBytes)
	lt := ct + int(d.LengthTableBytes)
	end := int(size)
	s := TensorSection{
		Desc:        d,
		LengthTable: b[ct:lt:lt],
		Payload:     b[lt:end:end],
	}
	if d.CodecTableBytes != 0 {
		s.CodecTable = b[TensorSectionDescriptorLen:ct:ct]
	}
	var sum uint64
	stride := d.PayloadStrideBytes
	for i := 0; i < len(s.LengthTable); i += 4 {
		l := binary.LittleEndian.Uint32(s.LengthTable[i:])
		if stride != 0 && l > stride {
			return TensorSection{}, 0, errInvalid(t, "section.length_table", "tile %d is %d bytes, stride is %d", i/4, l, stride)
		}
		sum += uint64(l)
	}
	if stride != 0 {
		sum = uint64(n) * uint64(stride)
	}
	if sum != uint64(d.PayloadBytes) {
		return TensorSection{}, 0, errInvalid(t, "section.payload_bytes", "is %d, the tiles need %d", d.PayloadBytes, sum)
	}
	return s, end, nil
}

// Len returns the number of tiles.
func (s *TensorSection) Len() int { return len(s.LengthTable) / 4 }

// TileLen returns the encoded length of tile i.
func (s *TensorSection) TileLen(i int) int {
	return int(binary.LittleEndian.Uint32(s.LengthTable[4*i:]))
}

// TileCodec returns the codec of tile i: its codec table entry, or the
// section's default codec.
func (s *TensorSection) TileCodec(i int) Codec {
	if s.CodecTable != nil {
		return Codec(s.CodecTable[i])
	}
	return s.Desc.CodecID
}

// Tile returns the bytes of tile i (0 ≤ i < Len()), aliasing the packet.
// O(1) with a fixed stride, O(i) otherwise.
func (s *TensorSection) Tile(i int) []byte {
	l := s.TileLen(i)
	var off int
	if st := int(s.Desc.PayloadStrideBytes); st != 0 {
		off = i * st
	} else {
		for j := 0; j < 4*i; j += 4 {
			off += int(binary.LittleEndian.Uint32(s.LengthTable[j:]))
		}
	}
	return s.Payload[off : off+l : off+l]
}

// AppendTiles appends the bytes of every tile, in tile order, to dst and
// returns it (O(n); reuse dst to avoid allocating).
func (s *TensorSection) AppendTiles(dst [][]byte) [][]byte {
	it := s.Tiles()
	for tile, ok := it.Next(); ok; tile, ok = it.Next() {
		dst = append(dst, tile)
	}
	return dst
}

// Tiles returns an iterator over the tiles in order, O(1) per tile.
func (s *TensorSection) Tiles() TensorSectionTiles { return TensorSectionTiles{s: s} }

// TensorSectionTiles iterates over a section's tiles without allocating.
type TensorSectionTiles struct {
	s   *TensorSection
	i   int
	off int
}

// Next returns the next tile's bytes; ok is false after the last tile.
func (it *TensorSectionTiles) Next() (tile []byte, ok bool) {
	s := it.s
	if s == nil || it.i >= s.Len() {
		return nil, false
	}
	l := s.TileLen(it.i)
	off := it.off
	if st := int(s.Desc.PayloadStrideBytes); st != 0 {
		off = it.i * st
	}
	it.off = off + l
	it.i++
	return s.Payload[off : off+l : off+l], true
}

// parseSectionTable parses count sections of n tiles from table into dst
// (D§5.2, D§5.8 rule 6): each section starts at an 8-byte boundary measured
// from base bytes before table (0 for a TENSOR_SECTION_TABLE object, the
// body offset for the legacy raw form) with zero padding before it, role ids
// strictly increase, and the last section ends exactly at the end of table.
func parseSectionTable(t MessageType, table []byte, base, count, n int, dst []TensorSection) error {
	if count > len(dst) {
		return errCode(t, CodeLimitExceeded, "section_count", "%d sections, limit %d", count, len(dst))
	}
	off := 0
	for k := range count {
		start := align8(base+off) - base
		if start > len(table) {
			return errShort(t, "section", start, len(table))
		}
		if !allZero(table[off:start]) {
			return errInvalid(t, "section.padding", "non-zero padding before section %d", k)
		}
		s, size, err := parseTensorSection(t, table[start:], n)
		if err != nil {
			return err
		}
		if k > 0 && s.Desc.RoleID <= dst[k-1].Desc.RoleID {
			return errInvalid(t, "section.role_id", "section %d role %d does not follow role %d", k, s.Desc.RoleID, dst[k-1].Desc.RoleID)
		}
		dst[k] = s
		off = start + size
	}
	if off != len(table) {
		return errInvalid(t, "section_count", "%d sections end at %d, the table is %d bytes", count, off, len(table))
	}
	return nil
}

// SectionData is one tensor section to send (both builders, D§5.2, D§5.5):
// the descriptor fields the sender chooses and one payload per tile, in
// tile order. The builders derive the tables, sizes and flags.
type SectionData struct {
	RoleID              uint16
	CodecID             Codec // default codec
	DTypeID             DType
	LayoutID            Layout
	ScalePolicy         uint8
	ElementCountPerTile uint32
	// Tiles holds each tile's encoded bytes; ResultBuilder segments alias
	// them, SubmitBuilder copies them.
	Tiles [][]byte
	// Codecs optionally gives each tile's codec. A codec table (and
	// MIXED_CODEC) is written only when some entry differs from CodecID.
	Codecs []Codec
	// Stride, when non-zero, selects a fixed stride: tile i occupies
	// [i·Stride, (i+1)·Stride), its bytes first and zeros after.
	Stride uint32
}

// sectionPlan is a SectionData checked for n tiles, with its descriptor.
type sectionPlan struct {
	desc  TensorSectionDescriptor
	mixed bool
}

// plan validates s for n tiles and derives its descriptor.
func (s *SectionData) plan(t MessageType, n int) (sectionPlan, error) {
	if len(s.Tiles) != n {
		return sectionPlan{}, errInvalid(t, "section.length_table", "role %d has %d tiles, tile_count is %d", s.RoleID, len(s.Tiles), n)
	}
	if s.Codecs != nil && len(s.Codecs) != n {
		return sectionPlan{}, errInvalid(t, "section.codec_table", "role %d has %d codecs for %d tiles", s.RoleID, len(s.Codecs), n)
	}
	p := sectionPlan{desc: TensorSectionDescriptor{
		RoleID: s.RoleID, CodecID: s.CodecID, DTypeID: s.DTypeID, LayoutID: s.LayoutID,
		ScalePolicy: s.ScalePolicy, ElementCountPerTile: s.ElementCountPerTile,
		LengthTableBytes: uint32(4 * n), PayloadStrideBytes: s.Stride,
	}}
	for _, c := range s.Codecs {
		if c != s.CodecID {
			p.mixed = true
			break
		}
	}
	if p.mixed {
		p.desc.Flags |= SectionMixedCodec
		p.desc.CodecTableBytes = uint32(n)
	}
	var sum uint64
	for i, tile := range s.Tiles {
		if s.Stride != 0 && uint64(len(tile)) > uint64(s.Stride) {
			return sectionPlan{}, errInvalid(t, "section.length_table", "role %d tile %d is %d bytes, stride is %d", s.RoleID, i, len(tile), s.Stride)
		}
		sum += uint64(len(tile))
	}
	if s.Stride != 0 {
		p.desc.Flags |= SectionFixedStride
		sum = uint64(n) * uint64(s.Stride)
	}
	if sum > maxU32 || p.desc.SectionBytes() > maxU32 {
		return sectionPlan{}, errCode(t, CodeLimitExceeded, "section.payload_bytes", "role %d needs %d bytes", s.RoleID, sum)
	}
	p.desc.PayloadBytes = uint32(sum)
	return p, nil
}

// appendTables appends descriptor, codec table and length table.
func (p *sectionPlan) appendTables(b []byte, s *SectionData) []byte {
	b = p.desc.appendUnchecked(b)
	if p.mixed {
		for _, c := range s.Codecs {
			b = append(b, byte(c))
		}
	}
	for _, tile := range s.Tiles {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(tile)))
	}
	return b
}

// planSections validates sections for n tiles (strictly increasing roles)
// into plans and returns the section table length, with sections aligned to
// 8 bytes from base.
func planSections(t MessageType, sections []SectionData, n, base int, plans []sectionPlan) ([]sectionPlan, uint64, error) {
	if len(sections) > 0xFFFF {
		return plans, 0, errCode(t, CodeLimitExceeded, "section_count", "%d sections", len(sections))
	}
	var size uint64
	for k := range sections {
		p, err := sections[k].plan(t, n)
		if err != nil {
			return plans, 0, err
		}
		if k > 0 && sections[k].RoleID <= sections[k-1].RoleID {
			return plans, 0, errInvalid(t, "section.role_id", "section %d role %d does not follow role %d", k, sections[k].RoleID, sections[k-1].RoleID)
		}
		size = align8(uint64(base)+size) - uint64(base) + p.desc.SectionBytes()
		plans = append(plans, p)
	}
	if size > maxU32 {
		return plans, 0, errCode(t, CodeLimitExceeded, "section_count", "section table of %d bytes", size)
	}
	return plans, size, nil
}

// AppendTensorSection validates s for len(s.Tiles) tiles and appends the
// encoded section (descriptor, tables, payload blob) to b.
func AppendTensorSection(b []byte, s *SectionData) ([]byte, error) {
	p, err := s.plan(0, len(s.Tiles))
	if err != nil {
		return b, err
	}
	b = p.appendTables(b, s)
	for _, tile := range s.Tiles {
		b = append(b, tile...)
		if s.Stride != 0 {
			b = appendZeros(b, int(s.Stride)-len(tile))
		}
	}
	return b, nil
}
