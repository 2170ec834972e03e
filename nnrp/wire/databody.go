package wire

// Shared receive-side machinery of SubmitView and ResultView: the body
// forms, limits, region parsing and deferred (referenced) objects.

// MaxSections is the largest section_count the views hold: the product's
// server profile limit (D§13 max_sections). Views keep sections in a fixed
// array of this size, so decoding never allocates.
const MaxSections = 16

// defaultMaxBodyBytes is the product's default max_body_bytes (D§13).
const defaultMaxBodyBytes = 32 << 20

// Limits are the receive-side limits of the server profile (D§5.8 rule 8).
// Violations fail with CodeLimitExceeded.
type Limits struct {
	// MaxSections caps section_count; 0 or anything above MaxSections
	// means MaxSections.
	MaxSections int
	// MaxBodyBytes caps body_len; 0 means 32 MiB.
	MaxBodyBytes int
}

func (l Limits) norm() (maxSections, maxBody int) {
	maxSections, maxBody = l.MaxSections, l.MaxBodyBytes
	if maxSections <= 0 || maxSections > MaxSections {
		maxSections = MaxSections
	}
	if maxBody <= 0 {
		maxBody = defaultMaxBodyBytes
	}
	return maxSections, maxBody
}

// BodyForm says how a received FRAME_SUBMIT or RESULT_PUSH body is encoded.
type BodyForm uint8

// Body forms.
const (
	// BodyFormPrelude is the preview4 body: BodyRegionPrelude and six
	// regions (D§4).
	BodyFormPrelude BodyForm = 0
	// BodyFormLegacyRaw is the prelude-less tensor-only body of nnrp-cs and
	// the older Python SDK (D§5.9).
	BodyFormLegacyRaw BodyForm = 1
	// BodyFormOpaque is a body of a message without the TENSOR payload kind
	// that is not in prelude form (the reference smoke tests send raw
	// "prompt"/"delta" bytes, D§8.3). It is exposed only as Body(): no tensor
	// sections, no typed frames, no references.
	BodyFormOpaque BodyForm = 2
)

func (f BodyForm) String() string {
	switch f {
	case BodyFormPrelude:
		return "prelude"
	case BodyFormLegacyRaw:
		return "legacy_raw"
	case BodyFormOpaque:
		return "opaque"
	}
	return "body_form(" + itoa(uint64(f)) + ")"
}

// dataBody is the decoded body shared by SubmitView and ResultView. All
// slices alias the packet buffer or objects returned by a resolver.
type dataBody struct {
	t       MessageType
	form    BodyForm
	body    []byte
	prelude BodyPrelude
	regions BodyRegions
	refs    ObjectReferenceRegion
	typed   TypedPayloadRegion
	ext     ExtensionRegion

	camera         []byte
	tileBlock      []byte
	sectionTable   []byte
	layoutTemplate []byte
	inline         FrameSubmitSlots // standard slots carried inline
	pending        FrameSubmitSlots // referenced slots not yet resolved

	// Parameters of the tile index and section table, kept to decode
	// referenced objects in Resolve.
	tileMode     TileIndexMode
	inferMode    bool // RESULT_PUSH: mode follows from the index length
	tileCount    int
	tileBase     uint32
	sectionCount int
	maxSections  int

	tiles    TileIndex
	nsec     int
	sections [MaxSections]TensorSection
}

// begin checks the limits and records the tile/section parameters.
func (d *dataBody) begin(t MessageType, body []byte, lim Limits, mode TileIndexMode, tiles int, base uint32, sections int) error {
	maxSections, maxBody := lim.norm()
	d.t, d.body, d.maxSections = t, body, maxSections
	d.tileMode, d.tileCount, d.tileBase, d.sectionCount = mode, tiles, base, sections
	if len(body) > maxBody {
		return errCode(t, CodeLimitExceeded, "body_len", "%d bytes, limit %d", len(body), maxBody)
	}
	if sections > maxSections {
		return errCode(t, CodeLimitExceeded, "section_count", "%d sections, limit %d", sections, maxSections)
	}
	return nil
}

// beginPrelude parses the prelude, splits the regions, walks the inline
// objects and parses the reference, typed and extension regions.
func (d *dataBody) beginPrelude(frameCount uint16, bitmap PayloadKind) error {
	t := d.t
	p, _, err := parseBodyPrelude(t, d.body)
	if err != nil {
		return err
	}
	if err := p.checkBody(t, len(d.body), frameCount); err != nil {
		return err
	}
	d.form, d.prelude, d.regions = BodyFormPrelude, p, p.split(d.body)
	w := InlineObjectWalker{t: t, rest: d.regions.Inline}
	for obj, ok := w.Next(); ok; obj, ok = w.Next() {
		switch slotOfKind(obj.Header.Kind) {
		case FrameSubmitSlotCamera:
			d.camera = obj.Payload
		case FrameSubmitSlotTileIndex:
			d.tileBlock = obj.Payload
		case FrameSubmitSlotSectionTable:
			d.sectionTable = obj.Payload
		case FrameSubmitSlotLayoutTemplate:
			d.layoutTemplate = obj.Payload
		}
	}
	if err := w.Err(); err != nil {
		return err
	}
	d.inline = w.seen
	if d.refs, err = parseObjectReferenceRegion(t, d.regions.References); err != nil {
		return err
	}
	if d.typed, err = parseTypedPayloadRegion(t, d.regions.TypedDescriptors, d.regions.TypedFrames, frameCount, bitmap); err != nil {
		return err
	}
	d.ext, err = parseExtensionRegion(t, d.regions.ExtensionDescriptors, d.regions.ExtensionPayload)
	return err
}

// decodeTiles decodes the tile index from its block.
func (d *dataBody) decodeTiles(block []byte) error {
	mode := d.tileMode
	if d.inferMode {
		switch {
		case len(block) == 0:
			mode = TileIndexDenseRange
		case len(block) == 2*d.tileCount:
			mode = TileIndexRawU16
		default:
			return errInvalid(d.t, "tile_index_bytes", "%d bytes for %d tiles: a result index is 0 (DENSE_RANGE) or 2×tile_count (RAW_U16) bytes",
				len(block), d.tileCount)
		}
	}
	x, err := decodeTileIndex(d.t, mode, d.tileCount, d.tileBase, block)
	if err != nil {
		return err
	}
	d.tiles, d.tileBlock = x, block
	return nil
}

// decodeSections parses the section table; base is the table's offset
// from the point sections align to (D§5.2, D§5.9).
func (d *dataBody) decodeSections(table []byte, base int) error {
	if err := parseSectionTable(d.t, table, base, d.sectionCount, d.tileCount, d.sections[:d.maxSections]); err != nil {
		return err
	}
	d.sectionTable, d.nsec = table, d.sectionCount
	return nil
}

// Resolve looks every referenced standard object (camera block, tile index
// block, tensor section table, payload layout template) up with r and
// decodes it as if it had been inline. A reference r does not know fails
// with CodeCacheMiss wrapping an *ObjectReferenceMissError (D§11.5); the
// objects already resolved stay resolved. It is a no-op when nothing is
// pending. The resolved payloads must outlive the view.
func (d *dataBody) Resolve(r ObjectReferenceResolver) error {
	for slot := FrameSubmitSlotCamera; slot <= FrameSubmitSlotLayoutTemplate; slot <<= 1 {
		if d.pending&slot == 0 {
			continue
		}
		ref, _ := d.refs.Slot(slot)
		payload, ok := r.ResolveObjectReference(ref)
		if !ok {
			return errMiss(d.t, ref)
		}
		switch slot {
		case FrameSubmitSlotCamera:
			d.camera = payload
		case FrameSubmitSlotTileIndex:
			if err := d.decodeTiles(payload); err != nil {
				return err
			}
		case FrameSubmitSlotSectionTable:
			if err := d.decodeSections(payload, 0); err != nil {
				return err
			}
		case FrameSubmitSlotLayoutTemplate:
			d.layoutTemplate = payload
		}
		d.pending &^= slot
	}
	return nil
}

// Form returns how the body was encoded.
func (d *dataBody) Form() BodyForm { return d.form }

// Body returns the whole body, aliasing the packet.
func (d *dataBody) Body() []byte { return d.body }

// Prelude returns the body prelude; ok is false unless the body is in
// prelude form.
func (d *dataBody) Prelude() (p BodyPrelude, ok bool) {
	return d.prelude, d.form == BodyFormPrelude
}

// Regions returns the six body regions (all empty unless the body is in
// prelude form).
func (d *dataBody) Regions() BodyRegions { return d.regions }

// InlineObjects returns a walker over the inline object region (empty
// unless the body is in prelude form). The region was validated by Decode.
func (d *dataBody) InlineObjects() InlineObjectWalker {
	return InlineObjectWalker{t: d.t, rest: d.regions.Inline}
}

// References returns the object reference region, including references
// of non-standard kinds.
func (d *dataBody) References() ObjectReferenceRegion { return d.refs }

// Pending returns the standard slots that are referenced and not yet
// resolved. Until it is empty the tile index and sections may be
// unavailable; call Resolve.
func (d *dataBody) Pending() FrameSubmitSlots { return d.pending }

// TypedFrames returns the typed payload frames (D§4.5).
func (d *dataBody) TypedFrames() TypedPayloadRegion { return d.typed }

// Extensions returns the (non-critical) extensions, which receivers skip.
func (d *dataBody) Extensions() ExtensionRegion { return d.ext }

// TileIndexBlock returns the raw tile index block (empty for DENSE_RANGE).
func (d *dataBody) TileIndexBlock() []byte { return d.tileBlock }

// Tiles returns the tile ids, in the order of every section's tiles.
func (d *dataBody) Tiles() TileIndex { return d.tiles }

// SectionCount returns the number of decoded tensor sections.
func (d *dataBody) SectionCount() int { return d.nsec }

// Section returns section i (0 ≤ i < SectionCount()), in role order.
func (d *dataBody) Section(i int) *TensorSection { return &d.sections[:d.nsec][i] }

// LayoutTemplate returns the PAYLOAD_LAYOUT_TEMPLATE object, if any.
func (d *dataBody) LayoutTemplate() []byte { return d.layoutTemplate }
