package wire

// Vector codecs for the data-plane blocks (D§4–§6, D§11.6) and the
// FRAME_SUBMIT / RESULT_PUSH packets, plus test-local decoders for the
// historical layouts that the live decoders must refuse.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
)

func init() {
	registerMessage(ParseFrameSubmit)
	registerMessage(ParseResultPush)

	registerKind("body_region_prelude", preludeVectorCodec)
	registerKind("object_reference_block", objectReferenceVectorCodec)
	registerKind("typed_payload_descriptor", typedDescriptorVectorCodec)
	registerKind("typed_payload_descriptor_region", typedRegionVectorCodec)
	registerKind("tile_index_block", tileIndexVectorCodec)
	registerKind("tensor_section", tensorSectionVectorCodec)
	registerKind("schema_descriptor_header", schemaVectorCodec)
	registerKind("(schema descriptor)", schemaVectorCodec)
	registerKind("metadata+body", submitMetaBodyVectorCodec)
	// FRAME_SUBMIT and RESULT_PUSH packets, body included (other types are
	// passed to packetVectorCodec).
	registerKind("data_packet", dataPacketVectorCodec)

	registerKind("typed_payload_descriptor_16_historical", historicalTypedDescriptor16Codec)
	registerKind("typed_payload_descriptor_region_16_historical", historicalTypedRegion16Codec)
	registerKind("typed_payload_descriptor_v3_historical", historicalTypedDescriptorV3Codec)
	registerKind("object_reference_block_16_historical", historicalObjectReference16Codec)
	registerKind("typed_payload_frame_region", historicalFrameRegionCodec)
}

// JSON views adding the reserved words the vectors list (always zero: the
// parsers reject anything else).
type (
	preludeJSON struct {
		BodyPrelude
		Reserved uint32 `json:"reserved"`
		Total    uint64 `json:"total_region_bytes"`
	}
	typedDescriptorJSON struct {
		TypedPayloadDescriptor
		Reserved0 uint16 `json:"reserved0"`
	}
	sectionDescriptorJSON struct {
		TensorSectionDescriptor
		Reserved uint32 `json:"reserved"`
	}
	schemaJSON struct {
		SchemaDescriptor
		Reserved0 uint16 `json:"reserved0"`
	}
)

func preludeJSONOf(p BodyPrelude) preludeJSON {
	return preludeJSON{BodyPrelude: p, Total: p.RegionBytes()}
}

// wholeParse runs a block parser that must consume all of b.
func wholeParse[T any](b []byte, parse func([]byte) (T, int, error)) (T, error) {
	v, n, err := parse(b)
	if err == nil && n != len(b) {
		err = fmt.Errorf("consumed %d of %d bytes", n, len(b))
	}
	return v, err
}

func preludeVectorCodec(b []byte) (any, []byte, error) {
	p, err := wholeParse(b, ParseBodyPrelude)
	if err != nil {
		return nil, nil, err
	}
	out, err := p.Append(nil)
	return preludeJSONOf(p), out, err
}

func objectReferenceVectorCodec(b []byte) (any, []byte, error) {
	r, err := wholeParse(b, ParseObjectReference)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.Append(nil)
	return r, out, err
}

func typedDescriptorVectorCodec(b []byte) (any, []byte, error) {
	d, err := wholeParse(b, ParseTypedPayloadDescriptor)
	if err != nil {
		return nil, nil, err
	}
	out, err := d.Append(nil)
	return typedDescriptorJSON{TypedPayloadDescriptor: d}, out, err
}

func schemaVectorCodec(b []byte) (any, []byte, error) {
	s, err := wholeParse(b, ParseSchemaDescriptor)
	if err != nil {
		return nil, nil, err
	}
	out, err := s.Append(nil)
	return schemaJSON{SchemaDescriptor: s}, out, err
}

// typedRegionVectorCodec decodes a 24-byte descriptor region. The frame
// region is not in the vector's bytes; it is the vector's
// payload_region_hex parameter (the body region that would follow).
func typedRegionVectorCodec(b []byte) (any, []byte, error) {
	frames, err := sideHex(b, "payload_region_hex", "payload_hex")
	if err != nil {
		return nil, nil, err
	}
	if len(b)%TypedPayloadDescriptorLen != 0 {
		return nil, nil, errInvalid(0, "typed_payload_descriptor_bytes", "%d bytes", len(b))
	}
	count := len(b) / TypedPayloadDescriptorLen
	var kinds PayloadKind
	for i := range count {
		kinds |= PayloadKind(b[i*TypedPayloadDescriptorLen+2])
	}
	r, err := ParseTypedPayloadRegion(b, frames, uint16(count), kinds)
	if err != nil {
		return nil, nil, err
	}
	fields := typedRegionFields(r, kinds)
	var out []byte
	for i := range r.Len() {
		d := r.Descriptor(i)
		if out, err = d.Append(out); err != nil {
			return nil, nil, err
		}
	}
	return fields, out, nil
}

func typedRegionFields(r TypedPayloadRegion, bitmap PayloadKind) map[string]any {
	descs := make([]any, 0, r.Len())
	payloads := make([]string, 0, r.Len())
	for i := range r.Len() {
		descs = append(descs, typedDescriptorJSON{TypedPayloadDescriptor: r.Descriptor(i)})
		payloads = append(payloads, string(r.Frame(i)))
	}
	return map[string]any{
		"descriptors": descs, "frame_payloads": payloads,
		"payload_region_hex": hex.EncodeToString(r.FrameBytes()), "payload_region_utf8": string(r.FrameBytes()),
		"payload_kind_bitmap": uint32(bitmap), "payload_frame_count": r.Len(),
	}
}

// tileIndexVectorCodec decodes a tile index block. The block alone does not
// say its mode, tile count or DENSE_RANGE base (a packet's metadata does);
// they are taken from the vector's tile_index_mode, tile_base_id and the
// length of its tile_ids, and the decoded ids are compared with tile_ids.
func tileIndexVectorCodec(b []byte) (any, []byte, error) {
	f, err := sideFields(b, "tile_index_mode")
	if err != nil {
		return nil, nil, err
	}
	mode, _ := number(f["tile_index_mode"])
	base, _ := number(f["tile_base_id"])
	n := len(f["tile_ids"].([]any))
	x, err := DecodeTileIndex(TileIndexMode(mode.Uint64()), n, uint32(base.Uint64()), b)
	if err != nil {
		return nil, nil, err
	}
	out, err := AppendTileIndex(nil, x.Spec(nil))
	return map[string]any{
		"tile_ids": x.AppendIDs(nil), "tile_index_mode": x.Mode(), "tile_base_id": x.Base(),
		"tile_index_bytes": len(x.Bytes()),
	}, out, err
}

// tensorSectionVectorCodec decodes one stand-alone section; its tile count
// is its length table's entry count.
func tensorSectionVectorCodec(b []byte) (any, []byte, error) {
	n := 0
	if len(b) >= TensorSectionDescriptorLen {
		n = int(binary.LittleEndian.Uint32(b[16:]) / 4)
	}
	s, size, err := ParseTensorSection(b, n)
	if err != nil {
		return nil, nil, err
	}
	if size != len(b) {
		return nil, nil, fmt.Errorf("section is %d bytes, vector %d", size, len(b))
	}
	sd := sectionDataOf(&s)
	out, err := AppendTensorSection(nil, &sd)
	return sectionFields(&s), out, err
}

func sectionFields(s *TensorSection) map[string]any {
	lengths := make([]int, s.Len())
	for i := range lengths {
		lengths[i] = s.TileLen(i)
	}
	return map[string]any{
		"descriptor":      sectionDescriptorJSON{TensorSectionDescriptor: s.Desc},
		"codec_table_hex": hex.EncodeToString(s.CodecTable),
		"length_table":    lengths,
		"payload_hex":     hex.EncodeToString(s.Payload),
	}
}

// sectionDataOf turns a received section back into builder input.
func sectionDataOf(s *TensorSection) SectionData {
	d := SectionData{
		RoleID: s.Desc.RoleID, CodecID: s.Desc.CodecID, DTypeID: s.Desc.DTypeID, LayoutID: s.Desc.LayoutID,
		ScalePolicy: s.Desc.ScalePolicy, ElementCountPerTile: s.Desc.ElementCountPerTile,
		Tiles: s.AppendTiles(make([][]byte, 0, s.Len())), Stride: s.Desc.PayloadStrideBytes,
	}
	if s.CodecTable != nil {
		d.Codecs = make([]Codec, s.Len())
		for i := range d.Codecs {
			d.Codecs[i] = s.TileCodec(i)
		}
	}
	return d
}

// typedOf turns received typed frames back into builder input.
func typedOf(r TypedPayloadRegion) []TypedPayload {
	var out []TypedPayload
	for i := range r.Len() {
		d := r.Descriptor(i)
		out = append(out, TypedPayload{ProfileID: d.ProfileID, Kind: d.Kind, Flags: d.Flags, SchemaID: d.SchemaID,
			SchemaVersion: d.SchemaVersion, StreamSemantics: d.StreamSemantics, Payload: r.Frame(i)})
	}
	return out
}

func sectionsOf(d *dataBody) []SectionData {
	var out []SectionData
	for i := range d.SectionCount() {
		out = append(out, sectionDataOf(d.Section(i)))
	}
	return out
}

// submitBuilderOf returns the builder that re-encodes a decoded submit.
func submitBuilderOf(v *SubmitView) *SubmitBuilder {
	b := &SubmitBuilder{
		Header: v.Header, Meta: v.Meta, Sections: sectionsOf(&v.dataBody), Typed: typedOf(v.TypedFrames()),
		LegacyRaw: v.Form() == BodyFormLegacyRaw,
	}
	if v.Meta.IsTensor() {
		b.Tiles = v.Tiles().Spec(nil)
	}
	if len(v.Camera()) > 0 {
		b.Camera = v.Camera()
	}
	refs := v.References()
	for slot, dst := range map[FrameSubmitSlots]**ObjectReference{
		FrameSubmitSlotCamera: &b.CameraRef, FrameSubmitSlotTileIndex: &b.TileIndexRef,
		FrameSubmitSlotSectionTable: &b.SectionTableRef, FrameSubmitSlotLayoutTemplate: &b.LayoutTemplateRef,
	} {
		if r, ok := refs.Slot(slot); ok {
			*dst = &r
		}
	}
	if b.SectionTableRef != nil {
		b.Sections = nil
	}
	return b
}

// buildResultOf re-encodes a decoded result with a ResultBuilder.
func buildResultOf(rb *ResultBuilder, v *ResultView) ([]byte, error) {
	rb.LegacyRaw = v.Form() == BodyFormLegacyRaw
	segs, err := rb.Build(v.Header, v.Meta, v.Tiles().Spec(nil), sectionsOf(&v.dataBody), typedOf(v.TypedFrames()))
	if err != nil {
		return nil, err
	}
	return bytes.Join(segs, nil), nil
}

// bodyFields is the JSON view of a decoded body, named as the packet
// vectors name its parts.
func bodyFields(d *dataBody, fields map[string]any) {
	fields["body_form"] = d.Form().String()
	fields["tile_ids"] = d.Tiles().AppendIDs([]uint16{})
	fields["tile_index_hex"] = hex.EncodeToString(d.TileIndexBlock())
	if p, ok := d.Prelude(); ok {
		fields["prelude"] = preludeJSONOf(p)
		var objs []any
		w := d.InlineObjects()
		for obj, ok := w.Next(); ok; obj, ok = w.Next() {
			objs = append(objs, map[string]any{
				"object_kind": obj.Header.Kind, "object_flags": obj.Header.Flags, "profile_id": obj.Header.ProfileID,
				"object_bytes": obj.Header.ObjectBytes, "block_bytes": obj.Header.BlockBytes(),
			})
		}
		fields["inline_objects"] = objs
	}
	var sections []any
	for i := range d.SectionCount() {
		s := d.Section(i)
		sf := sectionFields(s)
		sections = append(sections, sf)
		if i == 0 {
			fields["section"] = sf["descriptor"]
			fields["length_table"] = sf["length_table"]
			fields["codec_table_hex"] = sf["codec_table_hex"]
		}
	}
	fields["sections"] = sections
	var refs []any
	for i := range d.References().Len() {
		refs = append(refs, d.References().At(i))
	}
	fields["object_references"] = refs
	if len(refs) > 0 {
		fields["object_reference"] = refs[0]
	}
	tf := typedRegionFields(d.TypedFrames(), 0)
	fields["descriptors"] = tf["descriptors"]
	if ds := tf["descriptors"].([]any); len(ds) > 0 {
		fields["descriptor"] = ds[0]
	}
	fields["payload_region_hex"] = tf["payload_region_hex"]
	fields["payload_utf8"] = tf["payload_region_utf8"]
	fields["frame_payloads"] = tf["frame_payloads"]
}

// dataPacketVectorCodec decodes a FRAME_SUBMIT or RESULT_PUSH packet with
// its view, emits header, metadata and body structure, and re-encodes it
// with the matching builder (legacy raw form when it arrived that way). It
// also handles the header-only RESULT_DROP.
func dataPacketVectorCodec(b []byte) (any, []byte, error) {
	p, n, err := ParsePacket(b, 0)
	if err != nil {
		return nil, nil, err
	}
	if n != len(b) {
		return nil, nil, fmt.Errorf("packet is %d bytes, vector is %d", n, len(b))
	}
	fields := map[string]any{"header": headerFields(p.Header)}
	switch p.Header.Type {
	case TypeFrameSubmit:
		var v SubmitView
		if err := v.Decode(&p, Limits{}); err != nil {
			return nil, nil, err
		}
		fields["metadata"] = v.Meta
		bodyFields(&v.dataBody, fields)
		out, err := submitBuilderOf(&v).Append(nil)
		return fields, out, err
	case TypeResultPush:
		var v ResultView
		if err := v.Decode(&p, Limits{}); err != nil {
			return nil, nil, err
		}
		fields["metadata"] = v.Meta
		bodyFields(&v.dataBody, fields)
		out, err := buildResultOf(&ResultBuilder{}, &v)
		return fields, out, err
	case TypeResultDrop:
		// Header-only terminal drop (D§9.1); its vectors list the header
		// fields at the top level.
		if err := p.CheckHeaderOnly(); err != nil {
			return nil, nil, err
		}
		for k, v := range headerFields(p.Header) {
			fields[k] = v
		}
		out, err := AppendPacket(nil, p.Header, nil)
		return fields, out, err
	}
	return packetVectorCodec(b)
}

// submitMetaBodyVectorCodec decodes a "metadata+body" vector: 72 bytes of
// FRAME_SUBMIT metadata followed by the body, without a header.
func submitMetaBodyVectorCodec(b []byte) (any, []byte, error) {
	if len(b) < frameSubmitLen {
		return nil, nil, errShort(TypeFrameSubmit, "metadata", frameSubmitLen, len(b))
	}
	h := Header{Type: TypeFrameSubmit, MetaLen: frameSubmitLen, BodyLen: uint32(len(b) - frameSubmitLen)}
	pkt, err := h.Append(nil)
	if err != nil {
		return nil, nil, err
	}
	fields, out, err := dataPacketVectorCodec(append(pkt, b...))
	if err != nil {
		return nil, nil, err
	}
	return fields, out[HeaderLen:], nil
}

// ---- historical layouts (decoded here only; the live decoders refuse them)

// historicalTypedDescriptor16 is the preview2 16-byte typed payload
// descriptor: u8 payload_kind, u8 descriptor_flags, u16 profile_id,
// u32 offset, u32 length, u32 reserved.
type historicalTypedDescriptor16 struct {
	Kind     uint8  `json:"payload_kind"`
	Flags    uint8  `json:"descriptor_flags"`
	Profile  uint16 `json:"profile_id"`
	Offset   uint32 `json:"payload_offset"`
	Length   uint32 `json:"payload_length"`
	Reserved uint32 `json:"reserved"`
}

func readHistoricalTypedDescriptor16(b []byte) historicalTypedDescriptor16 {
	return historicalTypedDescriptor16{Kind: b[0], Flags: b[1], Profile: binary.LittleEndian.Uint16(b[2:]),
		Offset: binary.LittleEndian.Uint32(b[4:]), Length: binary.LittleEndian.Uint32(b[8:]),
		Reserved: binary.LittleEndian.Uint32(b[12:])}
}

func (d historicalTypedDescriptor16) append(b []byte) []byte {
	b = append(b, d.Kind, d.Flags)
	b = binary.LittleEndian.AppendUint16(b, d.Profile)
	b = binary.LittleEndian.AppendUint32(b, d.Offset)
	b = binary.LittleEndian.AppendUint32(b, d.Length)
	return binary.LittleEndian.AppendUint32(b, d.Reserved)
}

func historicalTypedDescriptor16Codec(b []byte) (any, []byte, error) {
	if len(b) != 16 {
		return nil, nil, fmt.Errorf("16-byte descriptor is %d bytes", len(b))
	}
	d := readHistoricalTypedDescriptor16(b)
	return d, d.append(nil), nil
}

// historicalRegion16 decodes 16-byte descriptors and slices the frame
// region (the vector's payload parameter) with them.
func historicalRegion16(desc, frames []byte) ([]historicalTypedDescriptor16, []string, PayloadKind, error) {
	if len(desc)%16 != 0 {
		return nil, nil, 0, fmt.Errorf("descriptor region of %d bytes", len(desc))
	}
	var ds []historicalTypedDescriptor16
	var slices []string
	var kinds PayloadKind
	for off := 0; off < len(desc); off += 16 {
		d := readHistoricalTypedDescriptor16(desc[off:])
		end := uint64(d.Offset) + uint64(d.Length)
		if end > uint64(len(frames)) {
			return nil, nil, 0, fmt.Errorf("descriptor %d ends at %d of %d", off/16, end, len(frames))
		}
		ds = append(ds, d)
		slices = append(slices, string(frames[d.Offset:end]))
		kinds |= PayloadKind(d.Kind)
	}
	return ds, slices, kinds, nil
}

func historicalTypedRegion16Codec(b []byte) (any, []byte, error) {
	frames, err := sideHex(b, "payload_region_hex", "payload_hex")
	if err != nil {
		return nil, nil, err
	}
	ds, slices, kinds, err := historicalRegion16(b, frames)
	if err != nil {
		return nil, nil, err
	}
	var out []byte
	for _, d := range ds {
		out = d.append(out)
	}
	return map[string]any{
		"descriptors": ds, "payload_region_hex": hex.EncodeToString(frames), "payload_hex": hex.EncodeToString(frames),
		"payload_region_utf8": string(frames), "payload_ascii": string(frames), "slices": slices,
		"payload_kind_bitmap": uint32(kinds), "payload_frame_count": len(ds),
	}, out, nil
}

// historicalFrameRegionCodec decodes a bare frame region by the 16-byte
// descriptor region that vector set pairs it with.
func historicalFrameRegionCodec(b []byte) (any, []byte, error) {
	desc, err := pairedDescriptorRegion(b)
	if err != nil {
		return nil, nil, err
	}
	_, slices, _, err := historicalRegion16(desc, b)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{"payload_ascii": string(b), "payload_utf8": string(b), "slices": slices}, b, nil
}

// historicalTypedDescriptorV3 is the preview3 layout: u16 profile_id, u16
// descriptor_flags, u32 schema_id, u32 schema_version, u16 stream_semantics,
// u16 reserved, u32 offset, u32 length.
type historicalTypedDescriptorV3 struct {
	Profile       uint16 `json:"profile_id"`
	Flags         uint16 `json:"descriptor_flags_u16"`
	SchemaID      uint32 `json:"schema_id"`
	SchemaVersion uint32 `json:"schema_version"`
	Stream        uint16 `json:"stream_semantics"`
	Reserved      uint16 `json:"reserved0"`
	Offset        uint32 `json:"offset"`
	Length        uint32 `json:"length"`
}

func historicalTypedDescriptorV3Codec(b []byte) (any, []byte, error) {
	if len(b) != 24 {
		return nil, nil, fmt.Errorf("v3 descriptor is %d bytes", len(b))
	}
	d := historicalTypedDescriptorV3{
		Profile: binary.LittleEndian.Uint16(b[0:]), Flags: binary.LittleEndian.Uint16(b[2:]),
		SchemaID: binary.LittleEndian.Uint32(b[4:]), SchemaVersion: binary.LittleEndian.Uint32(b[8:]),
		Stream: binary.LittleEndian.Uint16(b[12:]), Reserved: binary.LittleEndian.Uint16(b[14:]),
		Offset: binary.LittleEndian.Uint32(b[16:]), Length: binary.LittleEndian.Uint32(b[20:]),
	}
	out := binary.LittleEndian.AppendUint16(nil, d.Profile)
	out = binary.LittleEndian.AppendUint16(out, d.Flags)
	out = binary.LittleEndian.AppendUint32(out, d.SchemaID)
	out = binary.LittleEndian.AppendUint32(out, d.SchemaVersion)
	out = binary.LittleEndian.AppendUint16(out, d.Stream)
	out = binary.LittleEndian.AppendUint16(out, d.Reserved)
	out = binary.LittleEndian.AppendUint32(out, d.Offset)
	out = binary.LittleEndian.AppendUint32(out, d.Length)
	return d, out, nil
}

// historicalObjectReference16 is the preview2 16-byte reference with u32
// keys: u16 kind, u16 ref_flags, u32 namespace, u32 key_hi, u32 key_lo.
func historicalObjectReference16Codec(b []byte) (any, []byte, error) {
	if len(b) != 16 {
		return nil, nil, fmt.Errorf("16-byte reference is %d bytes", len(b))
	}
	f := map[string]any{
		"object_kind": binary.LittleEndian.Uint16(b[0:]), "ref_flags": binary.LittleEndian.Uint16(b[2:]),
		"cache_namespace": binary.LittleEndian.Uint32(b[4:]), "cache_key_hi_u32": binary.LittleEndian.Uint32(b[8:]),
		"cache_key_lo_u32": binary.LittleEndian.Uint32(b[12:]),
	}
	return f, bytes.Clone(b), nil
}

// ---- vector parameters that are not in the vector's bytes

var (
	allVectorsOnce sync.Once
	allVectors     []vector
	allVectorsErr  error
)

func vectorsByHex() ([]vector, error) {
	allVectorsOnce.Do(func() {
		for _, f := range []string{"control.json", "data.json"} {
			raw, err := os.ReadFile("testdata/" + f)
			if err != nil {
				allVectorsErr = err
				return
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var vs []vector
			if err := dec.Decode(&vs); err != nil {
				allVectorsErr = err
				return
			}
			allVectors = append(allVectors, vs...)
		}
	})
	return allVectors, allVectorsErr
}

// sideFields returns the fields of the vector whose bytes are b and whose
// fields contain key.
func sideFields(b []byte, key string) (map[string]any, error) {
	vs, err := vectorsByHex()
	if err != nil {
		return nil, err
	}
	h := hex.EncodeToString(b)
	for _, v := range vs {
		if strings.EqualFold(v.Hex, h) {
			if _, ok := v.Fields[key]; ok {
				return v.Fields, nil
			}
		}
	}
	return nil, fmt.Errorf("no vector with bytes %s lists %q", h, key)
}

// sideHex returns the first of keys, hex-decoded, from the vector whose
// bytes are b.
func sideHex(b []byte, keys ...string) ([]byte, error) {
	for _, k := range keys {
		if f, err := sideFields(b, k); err == nil {
			s, _ := f[k].(string)
			return hex.DecodeString(s)
		}
	}
	return nil, fmt.Errorf("no vector with bytes %x lists any of %v", b, keys)
}

// pairedDescriptorRegion returns the descriptor region of the vector that
// names b as its payload.
func pairedDescriptorRegion(b []byte) ([]byte, error) {
	vs, err := vectorsByHex()
	if err != nil {
		return nil, err
	}
	h := hex.EncodeToString(b)
	for _, v := range vs {
		for _, k := range []string{"payload_hex", "payload_region_hex"} {
			if s, _ := v.Fields[k].(string); strings.EqualFold(s, h) {
				if _, ok := v.Fields["descriptors"]; ok {
					return hex.DecodeString(v.Hex)
				}
			}
		}
	}
	return nil, fmt.Errorf("no descriptor region pairs with payload %s", h)
}

// ---- tests

// proseKeys are descriptions, not values: "tensor_values" is checked by
// TestWorkedTensorValues, "body_layout" by the body_form the codec reports.
var proseKeys = []string{"tensor_values", "body_layout"}

// TestDataPacketVectors runs every FRAME_SUBMIT / RESULT_PUSH / RESULT_DROP packet and
// metadata+body vector through the view decoders and the builders: the
// decoded header, metadata and body structure must match the vector's
// fields, and re-building from the view must give the same bytes.
func TestDataPacketVectors(t *testing.T) {
	for _, file := range []string{"data.json", "control.json"} {
		for _, v := range loadVectors(t, file) {
			dataPacket := v.Kind == "packet" &&
				(v.MessageType == "FRAME_SUBMIT" || v.MessageType == "RESULT_PUSH" || v.MessageType == "RESULT_DROP")
			if !dataPacket && v.Kind != "metadata+body" {
				continue
			}
			t.Run(v.Name, func(t *testing.T) {
				b := v.bytes(t)
				codec := dataPacketVectorCodec
				if v.Kind == "metadata+body" {
					codec = submitMetaBodyVectorCodec
				}
				fields, out, err := codec(b)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				compareFields(t, v.Name, withoutKeys(v.Fields, proseKeys...), fields)
				if layout, ok := v.Fields["body_layout"].(string); ok {
					form := fields.(map[string]any)["body_form"]
					if strings.Contains(layout, "no prelude") != (form == BodyFormLegacyRaw.String()) {
						t.Errorf("body_layout %q, decoded form %v", layout, form)
					}
				}
				if !bytes.Equal(out, b) {
					t.Fatalf("re-encode:\n got %x\nwant %s", out, v.Hex)
				}
			})
		}
	}
}

// TestWorkedTensorValues checks the tensors of the worked examples (D§7,
// D§8.4), which the vectors describe in prose.
func TestWorkedTensorValues(t *testing.T) {
	want := map[string]struct {
		step  float32
		count int
	}{
		"worked.frame_submit.fp32_1x3x4x4_inline":          {1, 48},
		"worked.frame_submit.fp32_1x3x4x4_legacy_raw_form": {1, 48},
		"worked.result_push.fp32_1x3x4x4_prelude_form":     {0.5, 48},
		"worked.result_push.fp32_1x3x4x4_legacy_raw_form":  {0.5, 48},
	}
	for _, v := range loadVectors(t, "data.json") {
		w, ok := want[v.Name]
		if !ok {
			continue
		}
		delete(want, v.Name)
		p, _, err := ParsePacket(v.bytes(t), 0)
		if err != nil {
			t.Fatal(err)
		}
		var d *dataBody
		if p.Header.Type == TypeFrameSubmit {
			var sv SubmitView
			if err := sv.Decode(&p, Limits{}); err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			d = &sv.dataBody
		} else {
			var rv ResultView
			if err := rv.Decode(&p, Limits{}); err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			d = &rv.dataBody
		}
		s := d.Section(0)
		if s.Desc.DTypeID != DTypeFloat32 || s.Desc.LayoutID != LayoutNCHW || int(s.Desc.ElementCountPerTile) != w.count {
			t.Fatalf("%s: descriptor %+v", v.Name, s.Desc)
		}
		tile := s.Tile(0)
		if len(tile) != 4*w.count {
			t.Fatalf("%s: tile is %d bytes", v.Name, len(tile))
		}
		for i := range w.count {
			if got := math.Float32frombits(binary.LittleEndian.Uint32(tile[4*i:])); got != float32(i)*w.step {
				t.Fatalf("%s: element %d = %v, want %v", v.Name, i, got, float32(i)*w.step)
			}
		}
	}
	if len(want) != 0 {
		t.Fatalf("worked vectors missing: %v", want)
	}
}

// TestHistoricalLayoutsRejectedByLiveDecoders: the preview2/preview3 block
// layouts in the vectors decode only with the test-local decoders above. The
// live wire is preview4 (24-byte references with u64 keys, 24-byte typed
// descriptors with a u8 payload_kind and a u8 flags byte, D§0.1, D§4.4,
// D§4.5, D§14), so the live decoders must refuse each of them — except the
// preview3 descriptor, whose bytes happen to form a valid preview4
// descriptor with another meaning (its u16 flags word 0x0002 reads as
// payload_kind TOKEN with flags 0): nothing in the bytes can tell the two
// apart, which is why the preview4 layout is the only one accepted.
func TestHistoricalLayoutsRejectedByLiveDecoders(t *testing.T) {
	seen := map[string]bool{}
	for _, file := range []string{"data.json", "control.json"} {
		for _, v := range loadVectors(t, file) {
			kind := v.Kind
			if file == "control.json" && v.MessageType == "FRAME_SUBMIT" && v.Kind == "metadata" {
				kind = frameSubmitBlockKind(&v)
			}
			if !strings.HasSuffix(kind, "_historical") && kind != "typed_payload_frame_region" {
				continue
			}
			seen[kind] = true
			b := v.bytes(t)
			var err error
			switch kind {
			case "typed_payload_descriptor_16_historical":
				_, _, err = ParseTypedPayloadDescriptor(b)
			case "typed_payload_descriptor_region_16_historical":
				frames, _ := sideHex(b, "payload_region_hex", "payload_hex")
				_, err = ParseTypedPayloadRegion(b, frames, uint16(len(b)/16), PayloadTokenChunk|PayloadAudioChunk|PayloadVideoChunk|PayloadStructuredEvent)
			case "object_reference_block_16_historical":
				_, _, err = ParseObjectReference(b)
			case "typed_payload_frame_region":
				// A bare frame region has no live layout of its own; its
				// descriptors are the historical ones checked above.
				continue
			case "typed_payload_descriptor_v3_historical":
				d, _, perr := ParseTypedPayloadDescriptor(b)
				if perr != nil {
					t.Fatalf("%s: %v", v.Name, perr)
				}
				hist, _, _ := historicalTypedDescriptorV3Codec(b)
				if uint16(d.Flags) == hist.(historicalTypedDescriptorV3).Flags {
					t.Fatalf("%s: the live decoder reads the preview3 flags word unchanged", v.Name)
				}
				continue
			default:
				t.Fatalf("%s: unhandled historical kind %s", v.Name, kind)
			}
			if err == nil {
				t.Fatalf("%s: the live decoder accepted a historical %s", v.Name, kind)
			}
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("%s: untyped error %v", v.Name, err)
			}
		}
	}
	for _, k := range []string{"typed_payload_descriptor_16_historical", "typed_payload_descriptor_region_16_historical",
		"typed_payload_descriptor_v3_historical", "object_reference_block_16_historical"} {
		if !seen[k] {
			t.Errorf("no vector of historical kind %s", k)
		}
	}
}

// TestLiveRejectsLegacyVariants pins the vectors that are valid for some
// source but not for the live wire (to be listed in rejectedVectors).
func TestLiveRejectsLegacyVariants(t *testing.T) {
	want := map[string]string{
		// operation_id = 0: FrameSubmitMetadata::parse rejects it (D§2, D§14).
		"rust.nnrp1_baseline.frame_submit.metadata":      "metadata",
		"nnrp-rs.baseline.frame_submit_metadata_variant": "metadata",
		// flags PARTIAL with reused_frame_id 41: parses (lenient receive)
		// but violates R2, so Append refuses to re-encode it (D§8.2, D§14).
		"rust.nnrp1_baseline.result_push.metadata":                       "send",
		"derived.data_rs.result_push_metadata_round_trips_frozen_layout": "send",
		"nnrp-rs.baseline.result_push_metadata_variant":                  "send",
		// typed_payload_descriptor_bytes 16: one 16-byte historical
		// descriptor; preview4 descriptors are 24 bytes (D§4.2, D§14).
		"rust.nnrp1_baseline.body_region.prelude":      "prelude",
		"nnrp-rs.baseline.body_region_prelude_variant": "prelude",
		// object_reference_bytes 16: the 16-byte preview2 reference.
		"recipe.preview2.body_region.prelude": "prelude",
		// ref_flags 3 (D§4.4, D§14).
		"recipe.preview4.object_reference.camera_block": "reference",
	}
	for _, file := range []string{"data.json", "control.json"} {
		for _, v := range loadVectors(t, file) {
			how, ok := want[v.Name]
			if !ok {
				continue
			}
			delete(want, v.Name)
			b := v.bytes(t)
			var err error
			switch how {
			case "metadata":
				_, _, err = ParseFrameSubmit(b)
			case "send":
				m, _, perr := ParseResultPush(b)
				if perr != nil {
					t.Fatalf("%s: the lenient parser refused it: %v", v.Name, perr)
				}
				_, err = m.Append(nil)
			case "prelude":
				_, _, err = ParseBodyPrelude(b)
			case "reference":
				_, _, err = ParseObjectReference(b)
			}
			expectReject(t, v.Name, err, CodeMalformedBody)
		}
	}
	if len(want) != 0 {
		t.Fatalf("vectors not found: %v", want)
	}
}
