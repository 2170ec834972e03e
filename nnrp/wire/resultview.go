package wire

// ResultView is the zero-copy view of a received RESULT_PUSH (D§8), the
// client-side counterpart of SubmitView with the same ownership rules:
// caller-owned, filled in place by Decode without allocating, slices
// aliasing the packet buffer.
//
// Besides the fields, the view offers (through its embedded body):
// Form, Body, Prelude, Regions, InlineObjects, References, Pending,
// Resolve, TypedFrames, Extensions, TileIndexBlock, Tiles, SectionCount,
// Section and LayoutTemplate.
type ResultView struct {
	Header Header
	// Meta is the decoded metadata, checked leniently (ParseResultPush).
	// After a failed Decode it is valid whenever the failure was in the body.
	Meta ResultPush
	dataBody
}

// Decode validates p as a RESULT_PUSH and fills v. Receiving is lenient:
// the metadata gets ParseResultPush's checks only (not the send-side R2–R5),
// but the body must be well formed, which includes R7 through the typed
// payload region rules:
//
//   - limits as in SubmitView.Decode (CodeLimitExceeded);
//   - prelude form (D§8.3): prelude, inline blocks, references sorted
//     strictly ascending with at most one tile index and one section table,
//     never both inline and referenced; the tile index mode follows from
//     tile_index_bytes (0 → DENSE_RANGE from tile_base_id, 2×tile_count →
//     RAW_U16, anything else rejected; D§6), the block may be absent when
//     tile_index_bytes is 0 and must be 0 when referenced; the section
//     table; typed payload regions; extensions;
//   - otherwise, for a tensor-only result (bitmap exactly TENSOR, no typed
//     frames), the legacy raw form tile index ‖ [pad8 ‖ section]… (D§5.9);
//   - otherwise, without the TENSOR kind, an opaque body (BodyFormOpaque);
//   - otherwise CodeMalformedBody.
//
// As for submits, only a body that fails the prelude detection rule can be
// opaque.
func (v *ResultView) Decode(p *Packet, lim Limits) error {
	*v = ResultView{Header: p.Header}
	const t = TypeResultPush
	if err := p.checkShape(t); err != nil {
		return err
	}
	m, _, err := ParseResultPush(p.Meta)
	if err != nil {
		return err
	}
	v.Meta = m
	if err := v.decodeBody(p.Body, lim); err != nil {
		v.dataBody = dataBody{}
		return err
	}
	return nil
}

func (v *ResultView) decodeBody(body []byte, lim Limits) error {
	m := &v.Meta
	if err := v.begin(TypeResultPush, body, lim, TileIndexDenseRange, int(m.TileCount), m.TileBaseID, int(m.SectionCount)); err != nil {
		return err
	}
	v.inferMode = true
	switch {
	case isPreludeForm(body, m.PayloadFrameCount):
		return v.decodePrelude()
	case m.PayloadKindBitmap == PayloadTensor && m.PayloadFrameCount == 0:
		return v.decodeLegacy()
	case !m.IsTensor():
		v.form = BodyFormOpaque
		return nil
	}
	return errInvalid(TypeResultPush, "body", "%d-byte tensor body is neither in prelude form nor in legacy raw form", len(body))
}

func (v *ResultView) decodePrelude() error {
	const t = TypeResultPush
	m := &v.Meta
	if err := v.beginPrelude(m.PayloadFrameCount, m.PayloadKindBitmap); err != nil {
		return err
	}
	if err := v.refs.checkResult(t); err != nil {
		return err
	}
	referenced := v.refs.Slots() & (FrameSubmitSlotTileIndex | FrameSubmitSlotSectionTable)
	if both := v.inline & referenced; both != 0 {
		return errInvalid(t, "object_reference", "slots 0x%x are both inline and referenced", uint32(both))
	}
	v.pending = referenced
	switch {
	case v.inline&FrameSubmitSlotTileIndex != 0:
		if uint64(m.TileIndexBytes) != uint64(len(v.tileBlock)) {
			return errInvalid(t, "tile_index_bytes", "is %d, the inline tile index block is %d bytes", m.TileIndexBytes, len(v.tileBlock))
		}
		if err := v.decodeTiles(v.tileBlock); err != nil {
			return err
		}
	case m.TileIndexBytes != 0:
		return errInvalid(t, "tile_index_bytes", "is %d without an inline tile index block", m.TileIndexBytes)
	case referenced&FrameSubmitSlotTileIndex == 0:
		if err := v.decodeTiles(nil); err != nil {
			return err
		}
	}
	switch {
	case v.inline&FrameSubmitSlotSectionTable != 0:
		return v.decodeSections(v.sectionTable, 0)
	case referenced&FrameSubmitSlotSectionTable != 0:
		return nil
	case m.SectionCount != 0:
		return errInvalid(t, "section_count", "is %d, but the body has no tensor section table", m.SectionCount)
	}
	return nil
}

// decodeLegacy parses tile index ‖ [pad8 ‖ section]… (D§5.9).
func (v *ResultView) decodeLegacy() error {
	m, body := &v.Meta, v.body
	v.form = BodyFormLegacyRaw
	tib := uint64(m.TileIndexBytes)
	if tib > uint64(len(body)) {
		return errShort(TypeResultPush, "tile_index_bytes", int(tib), len(body))
	}
	end := int(tib)
	if err := v.decodeTiles(body[:end:end]); err != nil {
		return err
	}
	return v.decodeSections(body[end:], end)
}
