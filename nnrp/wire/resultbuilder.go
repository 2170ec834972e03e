package wire

// ResultBuilder writes RESULT_PUSH packets (header, metadata and body, D§8)
// as a list of segments for a vectored write (net.Buffers), without copying
// tile payloads: the framing bytes (header, metadata, prelude, inline block
// headers, tile index, section descriptors, codec and length tables,
// typed payload descriptors, padding) live in a scratch buffer owned by the
// builder, and every tile and typed payload segment aliases the caller's
// memory (e.g. the model's output staging buffer).
//
// The segments returned by Build are valid until the next Build on the same
// builder; the caller's tile and typed payload memory must stay unmodified
// until the segments are written. Segments must not be modified. A builder
// is not safe for concurrent use; once warm (its buffers have grown to the
// largest result), Build allocates nothing.
type ResultBuilder struct {
	// LegacyRaw selects the prelude-less tensor-only body of D§5.9
	// (tile index ‖ [pad8 ‖ section]…) for peers that need it (nnrp-cs, the
	// older Python SDK); it allows neither typed payloads nor a result
	// without tensor content. Off by default: the preview4 prelude form.
	LegacyRaw bool

	scratch []byte
	spans   []resultSpan
	open    int // start in scratch of the span being written
	segs    [][]byte
	plans   []sectionPlan
	zeros   []byte
}

// resultSpan is one output segment: scratch[start:end], or ext when set.
type resultSpan struct {
	start, end int
	ext        []byte
}

// inlinePadMax is the largest padding written into the scratch buffer;
// larger zero runs (fixed-stride slot tails) are segments of b.zeros.
const inlinePadMax = 64

// Build validates a result and returns its segments. From the arguments it
// derives the metadata fields section_count, tile_count, tile_base_id,
// tile_index_bytes, payload_kind_bitmap (TENSOR when there are tiles or
// sections, plus the typed payload kinds), payload_frame_count, and
// covered_tile_count = tile_count − dropped_tile_count when it is 0; it sets
// h's Type, MetaLen and BodyLen. tiles must be DENSE_RANGE or RAW_U16, the
// only modes a result can carry (D§6); every section has one payload per
// tile, in tile order, roles strictly increasing. The metadata must then
// pass the send-side rules R1–R5 and R7 (see ResultPush).
//
// The prelude-form body is prelude ‖ TILE_INDEX_BLOCK (header-only for
// DENSE_RANGE; omitted without tiles) ‖ TENSOR_SECTION_TABLE (omitted
// without sections) ‖ typed payload descriptors ‖ typed payload frames
// (D§8.3).
func (b *ResultBuilder) Build(h Header, m ResultPush, tiles TileSpec, sections []SectionData, typed []TypedPayload) ([][]byte, error) {
	const t = TypeResultPush
	if tiles.Mode != TileIndexDenseRange && tiles.Mode != TileIndexRawU16 {
		return nil, errInvalid(t, "tile_index", "a result carries DENSE_RANGE or RAW_U16 tiles, not %s", tiles.Mode)
	}
	n, tib, err := tiles.plan(t)
	if err != nil {
		return nil, err
	}
	base := 0
	if b.LegacyRaw {
		base = tib
	}
	var tableLen uint64
	if b.plans, tableLen, err = planSections(t, sections, n, base, b.plans[:0]); err != nil {
		return nil, err
	}
	kinds, frameBytes, err := typedPlan(t, typed)
	if err != nil {
		return nil, err
	}

	m.SectionCount, m.TileCount, m.TileIndexBytes = uint16(len(sections)), uint16(n), uint32(tib)
	tensor := n > 0 || len(sections) > 0
	m.TileBaseID = 0
	if tensor && tiles.Mode == TileIndexDenseRange {
		m.TileBaseID = tiles.Base
	}
	m.PayloadKindBitmap = kinds
	if tensor {
		m.PayloadKindBitmap |= PayloadTensor
		if m.CoveredTileCount == 0 && int(m.DroppedTileCount) <= n {
			m.CoveredTileCount = uint16(n) - m.DroppedTileCount
		}
	}
	m.PayloadFrameCount = uint16(len(typed))
	if err := m.validateSend(); err != nil {
		return nil, err
	}

	var bodyLen uint64
	if b.LegacyRaw {
		if !tensor || len(typed) != 0 {
			return nil, errInvalid(t, "payload_kind_bitmap", "the legacy raw form carries tensor-only results")
		}
		bodyLen = uint64(tib) + tableLen
	} else {
		bodyLen = BodyPreludeLen + uint64(len(typed))*TypedPayloadDescriptorLen + frameBytes
		if n > 0 {
			bodyLen += align8(uint64(InlineObjectHeaderLen + tib))
		}
		if len(sections) > 0 {
			bodyLen += align8(InlineObjectHeaderLen + tableLen)
		}
	}
	if bodyLen > DefaultMaxPacket-HeaderLen-resultPushLen {
		return nil, errCode(t, CodeLimitExceeded, "body_len", "%d bytes exceeds the packet limit", bodyLen)
	}
	h.Type, h.MetaLen, h.BodyLen = t, resultPushLen, uint32(bodyLen)

	b.scratch, b.spans, b.open = b.scratch[:0], b.spans[:0], 0
	if b.scratch, err = h.Append(b.scratch); err != nil {
		return nil, err
	}
	b.scratch = m.appendUnchecked(b.scratch)
	if b.LegacyRaw {
		b.scratch = tiles.appendIndex(b.scratch, tib)
		b.writeSections(sections, base)
		return b.finish(), nil
	}
	prelude := BodyPrelude{
		InlineObjectBytes:           uint32(bodyLen - BodyPreludeLen - uint64(len(typed))*TypedPayloadDescriptorLen - frameBytes),
		TypedPayloadDescriptorBytes: uint32(len(typed)) * TypedPayloadDescriptorLen,
		TypedPayloadFrameBytes:      uint32(frameBytes),
	}
	b.scratch = prelude.appendUnchecked(b.scratch)
	if n > 0 {
		ih := InlineObjectHeader{Kind: ObjectTileIndexBlock, ObjectBytes: uint32(tib)}
		b.scratch = ih.appendUnchecked(b.scratch)
		b.scratch = tiles.appendIndex(b.scratch, tib)
		b.scratch = appendZeros(b.scratch, align8(tib)-tib)
	}
	if len(sections) > 0 {
		ih := InlineObjectHeader{Kind: ObjectTensorSectionTable, ObjectBytes: uint32(tableLen)}
		b.scratch = ih.appendUnchecked(b.scratch)
		b.writeSections(sections, 0)
		b.pad(int(align8(tableLen) - tableLen))
	}
	var off uint32
	for i := range typed {
		d := typed[i].descriptor(off)
		b.scratch = d.appendUnchecked(b.scratch)
		off += d.Length
	}
	for i := range typed {
		b.ext(typed[i].Payload)
	}
	return b.finish(), nil
}

// writeSections writes the planned sections, aligned to 8 bytes from base.
func (b *ResultBuilder) writeSections(sections []SectionData, base int) {
	off := 0
	for k := range sections {
		p, s := &b.plans[k], &sections[k]
		start := align8(base+off) - base
		b.pad(start - off)
		b.scratch = p.appendTables(b.scratch, s)
		for _, tile := range s.Tiles {
			b.ext(tile)
			if s.Stride != 0 {
				b.pad(int(s.Stride) - len(tile))
			}
		}
		off = start + int(p.desc.SectionBytes())
	}
}

// ext adds a segment aliasing p.
func (b *ResultBuilder) ext(p []byte) {
	if len(p) == 0 {
		return
	}
	b.closeSpan()
	b.spans = append(b.spans, resultSpan{ext: p})
}

// pad adds k zero bytes.
func (b *ResultBuilder) pad(k int) {
	if k <= inlinePadMax {
		b.scratch = appendZeros(b.scratch, k)
		return
	}
	if len(b.zeros) < k {
		b.zeros = make([]byte, k)
	}
	b.ext(b.zeros[:k:k])
}

// closeSpan ends the scratch span being written, if it is not empty.
func (b *ResultBuilder) closeSpan() {
	if len(b.scratch) > b.open {
		b.spans = append(b.spans, resultSpan{start: b.open, end: len(b.scratch)})
	}
	b.open = len(b.scratch)
}

// finish turns the spans into segments.
func (b *ResultBuilder) finish() [][]byte {
	b.closeSpan()
	b.segs = b.segs[:0]
	for _, s := range b.spans {
		if s.ext != nil {
			b.segs = append(b.segs, s.ext)
		} else {
			b.segs = append(b.segs, b.scratch[s.start:s.end:s.end])
		}
	}
	return b.segs
}
