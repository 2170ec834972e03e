package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

// mapResolver is a session object cache for the tests.
type mapResolver map[ObjectReference][]byte

func (m mapResolver) ResolveObjectReference(ref ObjectReference) ([]byte, bool) {
	b, ok := m[ref]
	return b, ok
}

// sectionTableBytes encodes sections as a TENSOR_SECTION_TABLE object.
func sectionTableBytes(t testing.TB, sections []SectionData) []byte {
	var table []byte
	for k := range sections {
		table = appendZeros(table, align8(len(table))-len(table))
		var err error
		if table, err = AppendTensorSection(table, &sections[k]); err != nil {
			t.Fatal(err)
		}
	}
	return table
}

// randomSections returns up to max sections of n tiles with increasing roles.
func randomSections(r *rand.Rand, n, max int) []SectionData {
	count := r.IntN(max + 1)
	var out []SectionData
	role := uint16(r.IntN(100))
	for range count {
		out = append(out, randomSectionData(r, role, n))
		role += 1 + uint16(r.IntN(300))
	}
	return out
}

// randomTypedPayloads returns up to max typed payloads.
func randomTypedPayloads(r *rand.Rand, max int) []TypedPayload {
	var out []TypedPayload
	for range r.IntN(max + 1) {
		p := TypedPayload{ProfileID: ProfileID(3 + r.IntN(50)), Kind: PayloadKind(4) << r.IntN(5),
			Flags: rBits(r, knownTypedPayloadFlags), SchemaID: r32(r), SchemaVersion: r32(r),
			StreamSemantics: TypedPayloadStream(r.IntN(4)), Payload: make([]byte, r.IntN(20))}
		if r.IntN(3) == 0 {
			p = TypedPayloadTokenChunk(p.Payload)
		}
		for i := range p.Payload {
			p.Payload[i] = r8(r)
		}
		out = append(out, p)
	}
	return out
}

// submitCase is a random submit: the builder, the cache holding the objects
// it references, and the sections and camera a decoder must find.
type submitCase struct {
	b        *SubmitBuilder
	cache    mapResolver
	sections []SectionData
	camera   []byte
}

// randomSubmit returns a valid random submit.
func randomSubmit(t testing.TB, r *rand.Rand) submitCase {
	b, cache := randomSubmitBuilder(t, r)
	c := submitCase{b: b, cache: cache, sections: b.Sections, camera: b.Camera}
	if b.SectionTableRef != nil {
		b.Sections = nil
	}
	if b.CameraRef != nil {
		c.camera = cache[*b.CameraRef]
	}
	return c
}

func randomSubmitBuilder(t testing.TB, r *rand.Rand) (*SubmitBuilder, mapResolver) {
	b := &SubmitBuilder{
		Header: Header{Flags: rBits(r, knownFlags), SessionID: r32(r), FrameID: r32(r) | 1, ViewID: r16(r), RouteID: r16(r), TraceID: r64(r)},
		Meta: FrameSubmit{FrameClass: FrameClass(r8(r)), LatencyBudgetMS: r16(r), TargetFPSx100: r16(r), RetryOfFrame: r32(r),
			OperationID: r64(r) | 1, BudgetPolicy: rBits(r, knownBudgetPolicy), LossTolerance: LossToleranceInheritSession,
			DependencyFrameID: r32(r)},
		Typed: randomTypedPayloads(r, 3),
	}
	cache := mapResolver{}
	if len(b.Typed) > 0 && r.IntN(3) == 0 {
		return b, cache // typed-only
	}
	b.Meta.SrcWidth, b.Meta.SrcHeight, b.Meta.TileWidth, b.Meta.TileHeight = r16(r), r16(r), r16(r), r16(r)
	b.Meta.InputProfile = rBelow(r, InputProfile(3))
	b.Tiles = randomTileSpec(r, rBelow(r, TileIndexMode(4)), []int{0, 1, 5, 40}[r.IntN(4)])
	b.Sections = randomSections(r, b.Tiles.Len(), 3)
	if r.IntN(2) == 0 {
		b.Camera = make([]byte, r.IntN(40))
		for i := range b.Camera {
			b.Camera[i] = r8(r)
		}
	}
	if r.IntN(2) == 0 || (b.Tiles.Len() == 0 && len(b.Sections) == 0 && len(b.Camera) == 0) {
		b.Meta.PayloadKindBitmap = PayloadTensor // declared tensor submit, even without content
	}
	ref := func(kind CacheObjectKind, payload []byte) *ObjectReference {
		ref := ObjectReference{Kind: kind, Namespace: r32(r), KeyHi: r64(r), KeyLo: r64(r)}
		cache[ref] = payload
		return &ref
	}
	if len(b.Camera) > 0 && r.IntN(3) == 0 {
		b.CameraRef = ref(ObjectCameraBlock, b.Camera)
		b.Camera = nil
	}
	if b.Tiles.Len() > 0 && r.IntN(3) == 0 {
		idx, err := AppendTileIndex(nil, b.Tiles)
		if err != nil {
			t.Fatal(err)
		}
		b.TileIndexRef = ref(ObjectTileIndexBlock, idx)
	}
	if len(b.Sections) > 0 && r.IntN(3) == 0 {
		b.SectionTableRef = ref(ObjectTensorSectionTable, sectionTableBytes(t, b.Sections))
		b.Meta.SectionCount = uint16(len(b.Sections))
	}
	if r.IntN(8) == 0 {
		b.LayoutTemplateRef = ref(ObjectPayloadLayoutTemplate, []byte("layout"))
	}
	return b, cache
}

// checkSubmitView compares a decoded (and resolved) submit with what was
// built.
func checkSubmitView(t testing.TB, v *SubmitView, b *SubmitBuilder, sections []SectionData, camera []byte) {
	t.Helper()
	h, m := v.Header, v.Meta
	if h.Flags != b.Header.Flags || h.SessionID != b.Header.SessionID || h.FrameID != b.Header.FrameID ||
		h.ViewID != b.Header.ViewID || h.RouteID != b.Header.RouteID || h.TraceID != b.Header.TraceID {
		t.Fatalf("header %+v, built %+v", h, b.Header)
	}
	w := b.Meta
	if m.OperationID != w.OperationID || m.FrameClass != w.FrameClass || m.LatencyBudgetMS != w.LatencyBudgetMS ||
		m.TargetFPSx100 != w.TargetFPSx100 || m.RetryOfFrame != w.RetryOfFrame || m.BudgetPolicy != w.BudgetPolicy ||
		m.LossTolerance != w.LossTolerance || m.DependencyFrameID != w.DependencyFrameID ||
		m.SrcWidth != w.SrcWidth || m.InputProfile != w.InputProfile || int(m.TileCount) != b.Tiles.Len() ||
		int(m.PayloadFrameCount) != len(b.Typed) || int(m.SectionCount) != len(sections) {
		t.Fatalf("metadata %+v, built %+v", m, w)
	}
	if v.Pending() != 0 {
		t.Fatalf("pending slots 0x%x", v.Pending())
	}
	if got := v.Tiles().AppendIDs(nil); !slices.Equal(got, specIDs(b.Tiles)) && b.Tiles.Len() > 0 {
		t.Fatalf("tile ids %v, built %v", got, specIDs(b.Tiles))
	}
	if !bytes.Equal(v.Camera(), camera) {
		t.Fatalf("camera %x, built %x", v.Camera(), camera)
	}
	if v.SectionCount() != len(sections) {
		t.Fatalf("%d sections, built %d", v.SectionCount(), len(sections))
	}
	for k := range sections {
		checkSectionTiles(t, fmt.Sprintf("section %d", k), v.Section(k), &sections[k])
	}
	checkTyped(t, v.TypedFrames(), b.Typed)
}

func checkTyped(t testing.TB, r TypedPayloadRegion, want []TypedPayload) {
	t.Helper()
	if r.Len() != len(want) {
		t.Fatalf("%d typed frames, built %d", r.Len(), len(want))
	}
	for i := range want {
		d := r.Descriptor(i)
		if d.Kind != want[i].Kind || d.ProfileID != want[i].ProfileID || d.Flags != want[i].Flags ||
			d.SchemaID != want[i].SchemaID || !bytes.Equal(r.Frame(i), want[i].Payload) {
			t.Fatalf("typed frame %d: %+v %x, built %+v", i, d, r.Frame(i), want[i])
		}
	}
}

// accessAll reads every part of a decoded body, so corrupted inputs that
// were accepted prove that nothing out of range is reachable.
func accessAll(d *dataBody) int {
	n := len(d.Body()) + len(d.TileIndexBlock()) + len(d.LayoutTemplate())
	it := d.Tiles().Iter()
	for id, ok := it.Next(); ok; id, ok = it.Next() {
		n += int(id)
	}
	if d.Tiles().Len() > 0 {
		n += int(d.Tiles().At(d.Tiles().Len() - 1))
	}
	for k := range d.SectionCount() {
		s := d.Section(k)
		for i := range s.Len() {
			n += len(s.Tile(i)) + int(s.TileCodec(i))
		}
		n += len(s.AppendTiles(nil))
	}
	for i := range d.TypedFrames().Len() {
		n += len(d.TypedFrames().Frame(i))
	}
	for i := range d.Extensions().Len() {
		n += len(d.Extensions().Payload(i))
	}
	for i := range d.References().Len() {
		n += int(d.References().At(i).Kind)
	}
	w := d.InlineObjects()
	for obj, ok := w.Next(); ok; obj, ok = w.Next() {
		n += len(obj.Payload)
	}
	return n
}

func decodeSubmit(t testing.TB, pkt []byte, lim Limits) (*SubmitView, error) {
	t.Helper()
	p, n, err := ParsePacket(pkt, 0)
	if err != nil {
		return nil, err
	}
	if n != len(pkt) {
		t.Fatalf("packet of %d bytes framed as %d", len(pkt), n)
	}
	v := new(SubmitView)
	return v, v.Decode(&p, lim)
}

func TestSubmitViewRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	forms := map[BodyForm]int{}
	for i := range 1500 {
		c := randomSubmit(t, r)
		b, cache := c.b, c.cache
		legacy := i%5 == 0 && b.CameraRef == nil && b.TileIndexRef == nil && b.SectionTableRef == nil &&
			b.LayoutTemplateRef == nil && len(b.Typed) == 0 && (b.Tiles.Len() > 0 || len(b.Sections) > 0 || len(b.Camera) > 0)
		b.LegacyRaw = legacy
		pkt, err := b.Append([]byte("prefix"))
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		if string(pkt[:6]) != "prefix" {
			t.Fatal("Append lost the caller's prefix")
		}
		v, err := decodeSubmit(t, pkt[6:], Limits{})
		if err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
		forms[v.Form()]++
		if legacy != (v.Form() == BodyFormLegacyRaw) {
			t.Fatalf("%d: form %v, legacy %v", i, v.Form(), legacy)
		}
		var want FrameSubmitSlots
		for slot, ref := range map[FrameSubmitSlots]*ObjectReference{FrameSubmitSlotCamera: b.CameraRef,
			FrameSubmitSlotTileIndex: b.TileIndexRef, FrameSubmitSlotSectionTable: b.SectionTableRef,
			FrameSubmitSlotLayoutTemplate: b.LayoutTemplateRef} {
			if ref != nil {
				want |= slot
			}
		}
		if v.Pending() != want || v.Meta.ObjectRefMask != want {
			t.Fatalf("%d: pending 0x%x, mask 0x%x, referenced 0x%x", i, v.Pending(), v.Meta.ObjectRefMask, want)
		}
		if want != 0 {
			err := v.Resolve(mapResolver{})
			expectReject(t, "resolve with an empty cache", err, CodeCacheMiss)
			var miss *ObjectReferenceMissError
			if !errors.As(err, &miss) {
				t.Fatalf("%d: miss error %v", i, err)
			}
			if _, known := cache[miss.Ref]; !known {
				t.Fatalf("%d: miss error %v", i, err)
			}
		}
		expectOK(t, "resolve", v.Resolve(cache))
		checkSubmitView(t, v, b, c.sections, c.camera)
		if b.LayoutTemplateRef != nil && string(v.LayoutTemplate()) != "layout" {
			t.Fatalf("layout template %q", v.LayoutTemplate())
		}
	}
	if forms[BodyFormPrelude] == 0 || forms[BodyFormLegacyRaw] == 0 {
		t.Fatalf("forms exercised: %v", forms)
	}
}

// TestSubmitViewTruncation: every truncation of a valid packet fails to
// frame (io.ErrUnexpectedEOF), and no shortened body (with body_len
// adjusted) decodes in prelude form.
func TestSubmitViewTruncation(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 40 {
		c := randomSubmit(t, r)
		b := c.b
		pkt, err := b.Append(nil)
		expectOK(t, "build", err)
		for cut := range len(pkt) {
			_, _, err := ParsePacket(pkt[:cut], 0)
			expectTruncated(t, "packet", cut, len(pkt), err)
		}
		bodyStart := HeaderLen + frameSubmitLen
		for cut := bodyStart; cut < len(pkt); cut++ {
			short := bytes.Clone(pkt[:cut])
			binary.LittleEndian.PutUint32(short[16:], uint32(cut-bodyStart))
			v, err := decodeSubmit(t, short, Limits{})
			if err == nil {
				// The prelude sum rule catches every cut. The legacy raw
				// form has no framing of its own (D§5.9), so a cut tensor
				// body can still read as one (RAW ids without sections);
				// a cut non-tensor body is opaque.
				if v.Form() == BodyFormPrelude || !v.Meta.IsTensor() && v.Form() != BodyFormOpaque {
					t.Fatalf("body cut to %d of %d accepted as %v", cut-bodyStart, len(pkt)-bodyStart, v.Form())
				}
				continue
			}
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			if v.Meta.OperationID != b.Meta.OperationID {
				t.Fatalf("metadata lost after a body error: %+v", v.Meta)
			}
		}
	}
}

// TestSubmitViewCorruption flips every byte of valid packets: decoding
// never panics, and whatever is accepted can be read entirely.
func TestSubmitViewCorruption(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for tested := 0; tested < 30; {
		c := randomSubmit(t, r)
		pkt, err := c.b.Append(nil)
		expectOK(t, "build", err)
		if len(pkt) > 1500 {
			continue // keep the run short: every byte is flipped three ways
		}
		tested++
		for i := range pkt {
			for _, x := range []byte{0xFF, 0x01, 0x80} {
				bad := bytes.Clone(pkt)
				bad[i] ^= x
				p, _, err := ParsePacket(bad, 0)
				if err != nil {
					continue
				}
				var v SubmitView
				if v.Decode(&p, Limits{}) == nil {
					_ = v.Resolve(c.cache)
					accessAll(&v.dataBody)
				}
			}
		}
	}
}

// tensorSubmit returns a FRAME_SUBMIT of tiles DENSE tiles carrying
// payload bytes in total (two sections: variable and fixed stride).
func tensorSubmit(t testing.TB, tiles, payload int) []byte {
	per := payload / tiles / 2
	data := make([]byte, 2*per*tiles)
	for i := range data {
		data[i] = byte(i)
	}
	var a, c [][]byte
	for i := range tiles {
		a = append(a, data[2*i*per:(2*i+1)*per])
		c = append(c, data[(2*i+1)*per:(2*i+2)*per])
	}
	b := &SubmitBuilder{
		Header: Header{SessionID: 1, FrameID: 1},
		Meta:   FrameSubmit{OperationID: 1, LossTolerance: LossToleranceInheritSession, SrcWidth: 64, SrcHeight: 64},
		Tiles:  TileRange(0, tiles),
		Sections: []SectionData{
			{RoleID: 1, DTypeID: DTypeFloat32, LayoutID: LayoutNCHW, Tiles: a},
			{RoleID: 2, DTypeID: DTypeUint8, Tiles: c, Stride: uint32(per)},
		},
	}
	pkt, err := b.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestSubmitViewAllocs(t *testing.T) {
	pkt := tensorSubmit(t, 64, 1<<20)
	p, _, err := ParsePacket(pkt, 0)
	expectOK(t, "frame", err)
	var v SubmitView
	var tiles [][]byte
	n := testing.AllocsPerRun(50, func() {
		if err := v.Decode(&p, Limits{}); err != nil {
			t.Fatal(err)
		}
		it := v.Section(0).Tiles()
		for tile, ok := it.Next(); ok; tile, ok = it.Next() {
			_ = tile
		}
		_ = v.Section(1).Tile(63)
		tiles = v.Section(0).AppendTiles(tiles[:0])
	})
	if n != 0 {
		t.Fatalf("SubmitView.Decode of a 1 MiB tensor allocates %v times per run", n)
	}
	if v.Section(1).Len() != 64 || len(tiles) != 64 || len(v.Section(0).Tile(63)) != (1<<20)/128 {
		t.Fatalf("decoded %d/%d tiles", v.Section(1).Len(), len(tiles))
	}
}

func BenchmarkSubmitViewDecode(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			pkt := tensorSubmit(b, 64, size)
			p, _, err := ParsePacket(pkt, 0)
			if err != nil {
				b.Fatal(err)
			}
			var v SubmitView
			lim := Limits{MaxBodyBytes: 64 << 20}
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				if err := v.Decode(&p, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ---- reject cases, one per rule of D§5.3 and D§5.8

// bodyParts assembles a prelude-form body from its regions.
type bodyParts struct {
	inline, refs, typedDesc, typedFrames, extDesc, extPayload []byte
}

func (bp bodyParts) bytes() []byte {
	p := BodyPrelude{InlineObjectBytes: uint32(len(bp.inline)), ObjectReferenceBytes: uint32(len(bp.refs)),
		TypedPayloadDescriptorBytes: uint32(len(bp.typedDesc)), TypedPayloadFrameBytes: uint32(len(bp.typedFrames)),
		ExtensionDescriptorBytes: uint32(len(bp.extDesc)), ExtensionPayloadBytes: uint32(len(bp.extPayload))}
	b := p.appendUnchecked(nil)
	for _, r := range [][]byte{bp.inline, bp.refs, bp.typedDesc, bp.typedFrames, bp.extDesc, bp.extPayload} {
		b = append(b, r...)
	}
	return b
}

// rawPacket frames metadata and body without validating them.
func rawPacket(t MessageType, meta, body []byte) []byte {
	h := Header{Type: t, MetaLen: uint32(len(meta)), BodyLen: uint32(len(body)), SessionID: 1, FrameID: 1}
	b, _ := h.Append(nil)
	return append(append(b, meta...), body...)
}

func inlineBlock(kind CacheObjectKind, payload []byte) []byte {
	b, _ := AppendInlineObject(nil, kind, 0, payload)
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestSubmitViewRejects(t *testing.T) {
	ids, _ := AppendTileIndex(nil, TileList(TileIndexRawU16, []uint16{1, 2}))
	section := SectionData{RoleID: 1, Tiles: [][]byte{{1}, {2, 3}}}
	table := sectionTableBytes(t, []SectionData{section})
	base := FrameSubmit{OperationID: 1, PayloadKindBitmap: PayloadTensor, LossTolerance: LossToleranceInheritSession,
		TileCount: 2, SectionCount: 1, TileIndexMode: TileIndexRawU16, TileIndexBytes: 4}
	tileBlock, tableBlock := inlineBlock(ObjectTileIndexBlock, ids), inlineBlock(ObjectTensorSectionTable, table)
	camRef := ObjectReference{Kind: ObjectCameraBlock, Namespace: 1}
	tixRef := ObjectReference{Kind: ObjectTileIndexBlock, Namespace: 1}
	tabRef := ObjectReference{Kind: ObjectTensorSectionTable, Namespace: 1}
	refs := func(rs ...ObjectReference) []byte { return refRegion(rs...) }
	with := func(f func(*FrameSubmit)) FrameSubmit { m := base; f(&m); return m }
	valid := bodyParts{inline: cat(tileBlock, tableBlock)}
	mixed := with(func(m *FrameSubmit) { m.SubmitMode = SubmitModeMixed; m.ObjectRefMask = FrameSubmitSlotCamera })
	token := FrameSubmit{OperationID: 1, PayloadKindBitmap: PayloadTokenChunk, PayloadFrameCount: 1}
	tok := TypedPayloadTokenChunk([]byte("hi"))
	tokDesc := tok.descriptor(0)
	crit, _ := (&ExtensionDescriptor{Flags: ExtensionCritical}).Append(nil)
	ext, _ := (&ExtensionDescriptor{PayloadLength: 4}).Append(nil)
	ext2, _ := (&ExtensionDescriptor{PayloadOffset: 2, PayloadLength: 2}).Append(nil)
	legacyBody := cat(ids, make([]byte, 4), table)

	ok := func(m FrameSubmit, body []byte) []byte {
		return rawPacket(TypeFrameSubmit, m.appendUnchecked(nil), body)
	}
	for _, tc := range []struct {
		name string
		pkt  []byte
		lim  Limits
		code ErrorCode
	}{
		{"valid", ok(base, valid.bytes()), Limits{}, CodeNone},
		{"valid legacy raw form", ok(base, legacyBody), Limits{}, CodeNone},
		{"legacy raw form, trailing byte", ok(base, cat(legacyBody, []byte{0})), Limits{}, CodeMalformedBody},
		{"legacy raw form, non-zero padding", ok(base, cat(ids, []byte{0, 0, 0, 1}, table)), Limits{}, CodeMalformedBody},
		{"non-tensor opaque body", ok(token, []byte("prompt")), Limits{}, CodeNone},
		{"tensor body in neither form", ok(mixed, []byte("prompt")), Limits{}, CodeMalformedBody},
		{"wrong message type", rawPacket(TypeResultPush, make([]byte, 64), nil), Limits{}, CodeInvalidState},
		{"meta_len 71", rawPacket(TypeFrameSubmit, base.appendUnchecked(nil)[:71], nil), Limits{}, CodeMalformedBody},
		{"metadata invalid", ok(with(func(m *FrameSubmit) { m.OperationID = 0 }), valid.bytes()), Limits{}, CodeMalformedBody},
		{"body_len above the limit", ok(base, valid.bytes()), Limits{MaxBodyBytes: 100}, CodeLimitExceeded},
		{"section_count above the limit", ok(with(func(m *FrameSubmit) { m.SectionCount = 3 }), valid.bytes()), Limits{MaxSections: 2}, CodeLimitExceeded},
		{"section_count above MaxSections", ok(with(func(m *FrameSubmit) { m.SectionCount = 17 }), valid.bytes()), Limits{MaxSections: 64}, CodeLimitExceeded},
		{"inline padding non-zero", ok(base, bodyParts{inline: cat(tileBlock[:20], []byte{0, 0, 1, 0}, tableBlock)}.bytes()), Limits{}, CodeMalformedBody},
		{"second inline tile index", ok(base, bodyParts{inline: cat(tileBlock, tileBlock, tableBlock)}.bytes()), Limits{}, CodeMalformedBody},
		{"REFERENCE with inline standard objects",
			ok(with(func(m *FrameSubmit) { m.SubmitMode = SubmitModeReference; m.ObjectRefMask = FrameSubmitSlotCamera }),
				bodyParts{inline: valid.inline, refs: refs(camRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"MIXED without inline objects",
			ok(with(func(m *FrameSubmit) {
				m.SubmitMode, m.ObjectRefMask, m.TileIndexBytes = SubmitModeMixed, FrameSubmitSlotTileIndex|FrameSubmitSlotSectionTable, 0
			}), bodyParts{refs: refs(tixRef, tabRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"slot inline and referenced",
			ok(with(func(m *FrameSubmit) { m.SubmitMode = SubmitModeMixed; m.ObjectRefMask = FrameSubmitSlotSectionTable }),
				bodyParts{inline: valid.inline, refs: refs(tabRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"references out of slot order",
			ok(with(func(m *FrameSubmit) {
				m.SubmitMode, m.ObjectRefMask = SubmitModeMixed, FrameSubmitSlotCamera|FrameSubmitSlotSectionTable
			}), bodyParts{inline: tileBlock, refs: refs(tabRef, camRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"reference not in mask", ok(mixed, bodyParts{inline: valid.inline, refs: refs(camRef, tixRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"mask slot without reference", ok(mixed, valid.bytes()), Limits{}, CodeMalformedBody},
		{"INLINE with a standard reference", ok(base, bodyParts{inline: valid.inline, refs: refs(camRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"camera_bytes without camera block", ok(with(func(m *FrameSubmit) { m.CameraBytes = 3 }), valid.bytes()), Limits{}, CodeMalformedBody},
		{"camera_bytes != camera block", ok(with(func(m *FrameSubmit) { m.CameraBytes = 3 }),
			bodyParts{inline: cat(inlineBlock(ObjectCameraBlock, []byte("ab")), valid.inline)}.bytes()), Limits{}, CodeMalformedBody},
		{"camera_bytes for a referenced camera", ok(with(func(m *FrameSubmit) {
			m.SubmitMode, m.ObjectRefMask, m.CameraBytes = SubmitModeMixed, FrameSubmitSlotCamera, 2
		}), bodyParts{inline: valid.inline, refs: refs(camRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"tile_index_bytes != tile index block", ok(with(func(m *FrameSubmit) { m.TileIndexBytes = 6 }), valid.bytes()), Limits{}, CodeMalformedBody},
		{"tile_index_bytes for a referenced index", ok(with(func(m *FrameSubmit) {
			m.SubmitMode, m.ObjectRefMask = SubmitModeMixed, FrameSubmitSlotTileIndex
		}), bodyParts{inline: tableBlock, refs: refs(tixRef)}.bytes()), Limits{}, CodeMalformedBody},
		{"tile_index_bytes without tile index block", ok(base, bodyParts{inline: tableBlock}.bytes()), Limits{}, CodeMalformedBody},
		{"RAW_U16 index absent", ok(with(func(m *FrameSubmit) { m.TileIndexBytes = 0 }), bodyParts{inline: tableBlock}.bytes()), Limits{}, CodeMalformedBody},
		{"tile index invalid", ok(with(func(m *FrameSubmit) { m.TileIndexMode = TileIndexDeltaU16 }),
			bodyParts{inline: cat(inlineBlock(ObjectTileIndexBlock, []byte{2, 0, 0, 0}), tableBlock)}.bytes()), Limits{}, CodeMalformedBody},
		{"section table absent", ok(base, bodyParts{inline: tileBlock}.bytes()), Limits{}, CodeMalformedBody},
		{"section_count != sections", ok(with(func(m *FrameSubmit) { m.SectionCount = 2 }), valid.bytes()), Limits{}, CodeMalformedBody},
		{"sections without section_count", ok(with(func(m *FrameSubmit) { m.SectionCount = 0 }), valid.bytes()), Limits{}, CodeMalformedBody},
		{"typed kinds != bitmap", ok(with(func(m *FrameSubmit) { m.PayloadFrameCount = 1 }),
			bodyParts{inline: valid.inline, typedDesc: tokDesc.appendUnchecked(nil), typedFrames: []byte("hi")}.bytes()), Limits{}, CodeMalformedBody},
		{"typed frames", ok(with(func(m *FrameSubmit) { m.PayloadFrameCount = 1; m.PayloadKindBitmap |= PayloadTokenChunk }),
			bodyParts{inline: valid.inline, typedDesc: tokDesc.appendUnchecked(nil), typedFrames: []byte("hi")}.bytes()), Limits{}, CodeNone},
		{"typed frame overrun", ok(with(func(m *FrameSubmit) { m.PayloadFrameCount = 1; m.PayloadKindBitmap |= PayloadTokenChunk }),
			bodyParts{inline: valid.inline, typedDesc: tokDesc.appendUnchecked(nil), typedFrames: []byte("h")}.bytes()), Limits{}, CodeMalformedBody},
		{"non-critical extension", ok(base, bodyParts{inline: valid.inline, extDesc: ext, extPayload: []byte("abcd")}.bytes()), Limits{}, CodeNone},
		{"critical extension", ok(base, bodyParts{inline: valid.inline, extDesc: crit}.bytes()), Limits{}, CodeUnsupportedCapability},
		{"overlapping extensions", ok(base, bodyParts{inline: valid.inline, extDesc: cat(ext, ext2), extPayload: []byte("abcd")}.bytes()), Limits{}, CodeMalformedBody},
	} {
		v, err := decodeSubmit(t, tc.pkt, tc.lim)
		if tc.code == CodeNone {
			expectOK(t, tc.name, err)
			accessAll(&v.dataBody)
			continue
		}
		expectReject(t, tc.name, err, tc.code)
		if v.SectionCount() != 0 || v.Form() != BodyFormPrelude || v.Body() != nil {
			t.Fatalf("%s: body state left after an error", tc.name)
		}
	}

	// Resolve: a referenced section table that does not parse.
	pkt := ok(with(func(m *FrameSubmit) { m.SubmitMode = SubmitModeMixed; m.ObjectRefMask = FrameSubmitSlotSectionTable }),
		bodyParts{inline: tileBlock, refs: refs(tabRef)}.bytes())
	v, err := decodeSubmit(t, pkt, Limits{})
	expectOK(t, "referenced table", err)
	expectReject(t, "resolve a bad table", v.Resolve(mapResolver{tabRef: table[:len(table)-1]}), CodeMalformedBody)
	expectOK(t, "resolve", v.Resolve(mapResolver{tabRef: table}))
	if v.SectionCount() != 1 || !bytes.Equal(v.Section(0).Tile(1), []byte{2, 3}) {
		t.Fatalf("resolved table: %d sections", v.SectionCount())
	}
}

func TestSubmitViewShortBodyIsEOF(t *testing.T) {
	// A legacy raw body cut inside the tile index is a truncation.
	m := FrameSubmit{OperationID: 1, PayloadKindBitmap: PayloadTensor, TileCount: 2, TileIndexMode: TileIndexRawU16, TileIndexBytes: 4}
	_, err := decodeSubmit(t, rawPacket(TypeFrameSubmit, m.appendUnchecked(nil), []byte{1, 0, 2}), Limits{})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v, want io.ErrUnexpectedEOF", err)
	}
}
