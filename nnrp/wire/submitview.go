package wire

// SubmitView is the zero-copy view of a received FRAME_SUBMIT (D§5.7,
// D§5.8). It is caller-owned and reusable: Decode fills it in place and
// allocates nothing. Every slice it hands out aliases the packet buffer (or
// an object returned by the resolver), which must stay alive and unmodified
// while the view is used. After Decode the view is immutable, so several
// goroutines may read it (Resolve is the only other mutator).
//
// Besides the fields, the view offers (through its embedded body):
// Form, Body, Prelude, Regions, InlineObjects, References, Pending,
// Resolve, TypedFrames, Extensions, TileIndexBlock, Tiles, SectionCount,
// Section and LayoutTemplate.
type SubmitView struct {
	Header Header
	// Meta is the decoded metadata. After a failed Decode it is valid (its
	// OperationID is non-zero) whenever the failure was in the body, so the
	// session layer can still answer for the operation.
	Meta FrameSubmit
	dataBody
}

// Decode validates p as a FRAME_SUBMIT and fills v (D§5.8). It checks the
// metadata (D§3) and meta_len, then the limits (body_len ≤ lim.MaxBodyBytes,
// section_count ≤ lim.MaxSections; CodeLimitExceeded), then picks the body
// form by the tolerant detection rule of D§5.9:
//
//   - Prelude form: the prelude and whole-body sum (D§4.2); the inline
//     blocks (D§4.3); references in slot order matching object_ref_mask and
//     the submit_mode rules, no slot both inline and referenced (D§5.3);
//     camera_bytes and tile_index_bytes equal to the inline object lengths
//     (0 when referenced or absent); the tile index (D§6; a header-only or
//     absent DENSE_RANGE block is accepted); the section table (D§5.2); the
//     typed payload regions (D§4.5); the extensions (D§4.6; CRITICAL fails
//     with CodeUnsupportedCapability).
//   - Otherwise, for an inline tensor-only submit, the legacy raw form
//     (D§5.9), which must consume the body exactly.
//   - Otherwise, without the TENSOR kind, an opaque body (BodyFormOpaque:
//     Body only, no sections, no typed frames).
//   - Otherwise CodeMalformedBody.
//
// The detection rule alone separates structured from opaque bodies: a
// non-tensor body that passes it but then breaks a prelude-form rule is an
// error, not an opaque body.
//
// Referenced standard objects are not looked up: they are reported by
// Pending and decoded by Resolve, so the session layer can answer an
// unknown one with CACHE_MISS and RESULT_DROP_REASON code 7.
//
// Decode is O(tile_count × section_count) for the length tables and O(1)
// in the payload size.
func (v *SubmitView) Decode(p *Packet, lim Limits) error {
	*v = SubmitView{Header: p.Header}
	const t = TypeFrameSubmit
	if err := p.checkShape(t); err != nil {
		return err
	}
	m, _, err := ParseFrameSubmit(p.Meta)
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

func (v *SubmitView) decodeBody(body []byte, lim Limits) error {
	m := &v.Meta
	if err := v.begin(TypeFrameSubmit, body, lim, m.TileIndexMode, int(m.TileCount), m.TileBaseID, int(m.SectionCount)); err != nil {
		return err
	}
	switch {
	case isPreludeForm(body, m.PayloadFrameCount):
		return v.decodePrelude()
	case m.PayloadKindBitmap == PayloadTensor && m.SubmitMode == SubmitModeInline && m.PayloadFrameCount == 0:
		return v.decodeLegacy()
	case !m.IsTensor():
		v.form = BodyFormOpaque
		return nil
	}
	return errInvalid(TypeFrameSubmit, "body", "%d-byte tensor body is neither in prelude form nor in legacy raw form", len(body))
}

func (v *SubmitView) decodePrelude() error {
	const t = TypeFrameSubmit
	m := &v.Meta
	if err := v.beginPrelude(m.PayloadFrameCount, m.PayloadKindBitmap); err != nil {
		return err
	}
	mask := m.ObjectRefMask
	if err := v.refs.checkSubmit(t, mask); err != nil {
		return err
	}
	if both := v.inline & mask; both != 0 {
		return errInvalid(t, "object_ref_mask", "slots 0x%x are both inline and referenced", uint32(both))
	}
	switch {
	case m.SubmitMode == SubmitModeReference && v.inline != 0:
		return errInvalid(t, "submit_mode", "REFERENCE submit carries standard slots 0x%x inline", uint32(v.inline))
	case m.SubmitMode == SubmitModeMixed && v.inline == 0:
		return errInvalid(t, "submit_mode", "MIXED submit carries no standard object inline")
	}
	v.pending = mask

	if uint64(m.CameraBytes) != uint64(len(v.camera)) {
		return errInvalid(t, "camera_bytes", "is %d, the inline camera block is %d bytes", m.CameraBytes, len(v.camera))
	}
	switch {
	case v.inline&FrameSubmitSlotTileIndex != 0:
		if uint64(m.TileIndexBytes) != uint64(len(v.tileBlock)) {
			return errInvalid(t, "tile_index_bytes", "is %d, the inline tile index block is %d bytes", m.TileIndexBytes, len(v.tileBlock))
		}
		if err := v.decodeTiles(v.tileBlock); err != nil {
			return err
		}
	case mask&FrameSubmitSlotTileIndex != 0:
		if m.TileIndexBytes != 0 {
			return errInvalid(t, "tile_index_bytes", "is %d for a referenced tile index, must be 0", m.TileIndexBytes)
		}
	default:
		if m.TileIndexBytes != 0 {
			return errInvalid(t, "tile_index_bytes", "is %d, but the body has no tile index block", m.TileIndexBytes)
		}
		if err := v.decodeTiles(nil); err != nil {
			return err
		}
	}
	switch {
	case v.inline&FrameSubmitSlotSectionTable != 0:
		return v.decodeSections(v.sectionTable, 0)
	case mask&FrameSubmitSlotSectionTable != 0:
		return nil
	case m.SectionCount != 0:
		return errInvalid(t, "section_count", "is %d, but the body has no tensor section table", m.SectionCount)
	}
	return nil
}

// decodeLegacy parses camera ‖ pad8 ‖ tile index ‖ [pad8 ‖ section]… with
// padding measured from the body start (D§5.9). When nothing follows the
// camera, its padding may be present or absent.
func (v *SubmitView) decodeLegacy() error {
	const t = TypeFrameSubmit
	m, body := &v.Meta, v.body
	v.form = BodyFormLegacyRaw
	cb, tib := uint64(m.CameraBytes), uint64(m.TileIndexBytes)
	if cb > uint64(len(body)) {
		return errShort(t, "camera_bytes", int(cb), len(body))
	}
	v.camera = body[:cb:cb]
	off := int(cb)
	if tib == 0 && m.SectionCount == 0 {
		if rest := body[off:]; len(rest) != 0 && (len(rest) != align8(off)-off || !allZero(rest)) {
			return errInvalid(t, "body_len", "%d bytes after the camera block", len(rest))
		}
		return v.decodeTiles(nil)
	}
	pad := align8(off)
	if uint64(pad)+tib > uint64(len(body)) {
		return errShort(t, "tile_index_bytes", int(min(uint64(pad)+tib, maxU32+8)), len(body))
	}
	if !allZero(body[off:pad]) {
		return errInvalid(t, "body", "non-zero padding after the camera block")
	}
	end := pad + int(tib)
	if err := v.decodeTiles(body[pad:end:end]); err != nil {
		return err
	}
	return v.decodeSections(body[end:], end)
}

// Camera returns the camera block (inline, resolved, or empty).
func (v *SubmitView) Camera() []byte { return v.camera }
