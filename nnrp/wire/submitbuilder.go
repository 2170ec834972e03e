package wire

import "slices"

// SubmitBuilder describes one FRAME_SUBMIT to send (the client side) and
// writes it with the builder algorithm of D§5.5, the one the reference
// builders (nnrp-rs NnrpSubmitRequest::tensor, nnrp-js
// createTensorSubmitRequest) use, so equal inputs give equal bytes.
//
// Fill the fields and call Append. Header supplies flags, session_id,
// frame_id, view_id, route_id and trace_id; Meta supplies the fields the
// caller chooses (dimensions, frame_class, input_profile, budgets,
// retry_of_frame, operation_id, budget_policy, loss_tolerance_policy,
// dependency_frame_id) and, only when the section table is referenced,
// section_count. Append derives everything else. A SubmitBuilder may be
// reused; it is not safe for concurrent use.
type SubmitBuilder struct {
	Header Header
	Meta   FrameSubmit

	// Tiles are the tile ids, in the order of every section's tiles.
	Tiles TileSpec
	// Sections are the tensor sections in strictly increasing role order,
	// each with one payload per tile (copied into the packet).
	Sections []SectionData
	// Camera is the inline camera block (omitted when empty).
	Camera []byte
	// CameraRef, TileIndexRef, SectionTableRef and LayoutTemplateRef send
	// a standard object by reference instead of inline (D§5.3). A zero Kind
	// is filled in with the slot's kind. A referenced camera or section
	// table must not also be given inline.
	CameraRef, TileIndexRef, SectionTableRef, LayoutTemplateRef *ObjectReference
	// Typed are typed payload frames (token chunks, events, …, D§4.5).
	Typed []TypedPayload
	// LegacyRaw writes the prelude-less tensor-only body of D§5.9 for old
	// servers: an INLINE, tensor-only submit without typed frames.
	LegacyRaw bool

	plans []sectionPlan
}

// slotRef checks a reference for a slot and returns it with its kind set.
func slotRef(ref *ObjectReference, kind CacheObjectKind) (ObjectReference, error) {
	r := *ref
	if r.Kind == 0 {
		r.Kind = kind
	}
	if r.Kind != kind {
		return r, errInvalid(TypeFrameSubmit, "object_reference.object_kind", "kind %d in the slot of kind %d", r.Kind, kind)
	}
	return r, r.validate(TypeFrameSubmit)
}

// Append validates the submit and appends the complete packet to dst. It
// derives tile_count, section_count (unless the table is referenced),
// tile_index_mode (Tiles.Mode; RAW_U16 for a non-tensor submit, as the
// reference typed-payload builders write), tile_base_id (DENSE_RANGE base,
// else 0), camera_bytes and tile_index_bytes (0 when referenced),
// submit_mode and object_ref_mask (D§5.5 step 6), payload_kind_bitmap
// (TENSOR when the submit has tiles, sections, a camera, a referenced
// tensor object, or Meta already has the TENSOR bit; plus the typed kinds)
// and payload_frame_count. On error dst is returned unchanged.
func (b *SubmitBuilder) Append(dst []byte) ([]byte, error) {
	const t = TypeFrameSubmit
	m := b.Meta
	n, tib, err := b.Tiles.plan(t)
	if err != nil {
		return dst, err
	}
	var refs [4]ObjectReference
	var mask FrameSubmitSlots
	for i, r := range [4]struct {
		ref  *ObjectReference
		kind CacheObjectKind
	}{{b.CameraRef, ObjectCameraBlock}, {b.TileIndexRef, ObjectTileIndexBlock},
		{b.SectionTableRef, ObjectTensorSectionTable}, {b.LayoutTemplateRef, ObjectPayloadLayoutTemplate}} {
		if r.ref == nil {
			continue
		}
		if refs[i], err = slotRef(r.ref, r.kind); err != nil {
			return dst, err
		}
		mask |= FrameSubmitSlotCamera << i
	}
	if b.CameraRef != nil && len(b.Camera) != 0 {
		return dst, errInvalid(t, "camera_bytes", "camera is both inline and referenced")
	}
	if b.SectionTableRef != nil && len(b.Sections) != 0 {
		return dst, errInvalid(t, "section_count", "sections are both inline and referenced")
	}
	if uint64(len(b.Camera)) > maxU32 {
		return dst, errCode(t, CodeLimitExceeded, "camera_bytes", "%d bytes", len(b.Camera))
	}
	cb := len(b.Camera)
	sectionBase := 0
	if b.LegacyRaw && (tib > 0 || len(b.Sections) > 0) {
		sectionBase = align8(cb) + tib
	}
	var tableLen uint64
	if b.plans, tableLen, err = planSections(t, b.Sections, n, sectionBase, b.plans[:0]); err != nil {
		return dst, err
	}
	kinds, frameBytes, err := typedPlan(t, b.Typed)
	if err != nil {
		return dst, err
	}

	tensor := n > 0 || len(b.Sections) > 0 || cb > 0 ||
		mask&(FrameSubmitSlotCamera|FrameSubmitSlotTileIndex|FrameSubmitSlotSectionTable) != 0 ||
		m.PayloadKindBitmap&PayloadTensor != 0
	var inline FrameSubmitSlots
	if cb > 0 {
		inline |= FrameSubmitSlotCamera
	}
	if b.TileIndexRef == nil && n > 0 {
		inline |= FrameSubmitSlotTileIndex
	}
	if b.SectionTableRef == nil {
		m.SectionCount = uint16(len(b.Sections))
	}
	if b.SectionTableRef == nil && len(b.Sections) > 0 {
		inline |= FrameSubmitSlotSectionTable
	}
	m.TileCount, m.CameraBytes, m.TileIndexBytes = uint16(n), uint32(cb), uint32(tib)
	if b.TileIndexRef != nil {
		m.TileIndexBytes = 0
	}
	m.TileIndexMode, m.TileBaseID = b.Tiles.Mode, 0
	if tensor && b.Tiles.Mode == TileIndexDenseRange {
		m.TileBaseID = b.Tiles.Base
	}
	if !tensor {
		m.TileIndexMode = TileIndexRawU16
	}
	switch {
	case mask != 0 && inline == 0:
		m.SubmitMode = SubmitModeReference
	case mask != 0:
		m.SubmitMode = SubmitModeMixed
	default:
		m.SubmitMode = SubmitModeInline
	}
	m.ObjectRefMask = mask
	m.PayloadKindBitmap = kinds
	if tensor {
		m.PayloadKindBitmap |= PayloadTensor
	}
	m.PayloadFrameCount = uint16(len(b.Typed))
	if err := m.validate(); err != nil {
		return dst, err
	}

	var bodyLen uint64
	if b.LegacyRaw {
		if mask != 0 || len(b.Typed) != 0 || m.PayloadKindBitmap != PayloadTensor {
			return dst, errInvalid(t, "submit_mode", "the legacy raw form carries inline tensor-only submits")
		}
		bodyLen = uint64(cb)
		if tib > 0 || len(b.Sections) > 0 {
			bodyLen = uint64(sectionBase) + tableLen
		}
	} else {
		bodyLen = BodyPreludeLen + uint64(mask.count())*ObjectReferenceLen +
			uint64(len(b.Typed))*TypedPayloadDescriptorLen + frameBytes
		if inline&FrameSubmitSlotCamera != 0 {
			bodyLen += align8(uint64(InlineObjectHeaderLen + cb))
		}
		if inline&FrameSubmitSlotTileIndex != 0 {
			bodyLen += align8(uint64(InlineObjectHeaderLen + tib))
		}
		if inline&FrameSubmitSlotSectionTable != 0 {
			bodyLen += align8(InlineObjectHeaderLen + tableLen)
		}
	}
	if bodyLen > DefaultMaxPacket-HeaderLen-frameSubmitLen {
		return dst, errCode(t, CodeLimitExceeded, "body_len", "%d bytes exceeds the packet limit", bodyLen)
	}
	h := b.Header
	h.Type, h.MetaLen, h.BodyLen = t, frameSubmitLen, uint32(bodyLen)

	start := len(dst)
	out := slices.Grow(dst, HeaderLen+frameSubmitLen+int(bodyLen))
	if out, err = h.Append(out); err != nil {
		return dst, err
	}
	if out, err = m.Append(out); err != nil {
		return dst, err
	}
	if b.LegacyRaw {
		out = append(out, b.Camera...)
		if tib > 0 || len(b.Sections) > 0 {
			out = appendZeros(out, align8(cb)-cb)
			out = b.Tiles.appendIndex(out, tib)
			out = b.appendSections(out, sectionBase)
		}
	} else {
		out = b.appendPreludeBody(out, &refs, mask, inline, uint32(bodyLen), uint32(tib), uint32(tableLen), uint32(frameBytes))
	}
	if want := HeaderLen + frameSubmitLen + int(bodyLen); len(out)-start != want {
		return dst, errCode(t, CodeInternalError, "body_len", "wrote %d bytes, planned %d", len(out)-start, want)
	}
	return out, nil
}

// appendPreludeBody writes the prelude-form body planned by Append.
func (b *SubmitBuilder) appendPreludeBody(out []byte, refs *[4]ObjectReference, mask, inline FrameSubmitSlots,
	bodyLen, tib, tableLen, frameBytes uint32) []byte {
	cb := len(b.Camera)
	prelude := BodyPrelude{
		ObjectReferenceBytes:        uint32(mask.count()) * ObjectReferenceLen,
		TypedPayloadDescriptorBytes: uint32(len(b.Typed)) * TypedPayloadDescriptorLen,
		TypedPayloadFrameBytes:      frameBytes,
	}
	prelude.InlineObjectBytes = bodyLen - BodyPreludeLen - prelude.ObjectReferenceBytes -
		prelude.TypedPayloadDescriptorBytes - prelude.TypedPayloadFrameBytes
	out = prelude.appendUnchecked(out)
	if inline&FrameSubmitSlotCamera != 0 {
		ih := InlineObjectHeader{Kind: ObjectCameraBlock, ObjectBytes: uint32(cb)}
		out = ih.appendUnchecked(out)
		out = append(out, b.Camera...)
		out = appendZeros(out, align8(cb)-cb)
	}
	if inline&FrameSubmitSlotTileIndex != 0 {
		ih := InlineObjectHeader{Kind: ObjectTileIndexBlock, ObjectBytes: tib}
		out = ih.appendUnchecked(out)
		out = b.Tiles.appendIndex(out, int(tib))
		out = appendZeros(out, int(align8(tib)-tib))
	}
	if inline&FrameSubmitSlotSectionTable != 0 {
		ih := InlineObjectHeader{Kind: ObjectTensorSectionTable, ObjectBytes: tableLen}
		out = ih.appendUnchecked(out)
		out = b.appendSections(out, 0)
		out = appendZeros(out, int(align8(tableLen)-tableLen))
	}
	for i := range refs {
		if mask&(FrameSubmitSlotCamera<<i) != 0 {
			out = refs[i].appendUnchecked(out)
		}
	}
	var off uint32
	for i := range b.Typed {
		d := b.Typed[i].descriptor(off)
		out = d.appendUnchecked(out)
		off += d.Length
	}
	for i := range b.Typed {
		out = append(out, b.Typed[i].Payload...)
	}
	return out
}

// appendSections writes the planned sections, aligned to 8 bytes from base.
func (b *SubmitBuilder) appendSections(out []byte, base int) []byte {
	off := 0
	for k := range b.Sections {
		p, s := &b.plans[k], &b.Sections[k]
		start := align8(base+off) - base
		out = appendZeros(out, start-off)
		out = p.appendTables(out, s)
		for _, tile := range s.Tiles {
			out = append(out, tile...)
			if s.Stride != 0 {
				out = appendZeros(out, int(s.Stride)-len(tile))
			}
		}
		off = start + int(p.desc.SectionBytes())
	}
	return out
}

// count returns the number of slots in s.
func (s FrameSubmitSlots) count() int {
	n := 0
	for ; s != 0; s &= s - 1 {
		n++
	}
	return n
}
