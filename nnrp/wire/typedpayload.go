package wire

import "encoding/binary"

// TypedPayloadDescriptorLen is the size of a preview4 typed payload
// descriptor (D§4.5). The 16-byte preview2 descriptor and the preview3
// layout with a u16 flags word are historical and not accepted.
const TypedPayloadDescriptorLen = 24

// TypedPayloadFlags is TypedPayloadDescriptor.descriptor_flags (D§4.5).
type TypedPayloadFlags uint8

// Typed payload descriptor flags (names from nnrp-js).
const (
	TypedPayloadTerminal       TypedPayloadFlags = 0x01
	TypedPayloadPartial        TypedPayloadFlags = 0x02 // streaming chunk (token builder default)
	TypedPayloadSchemaOverride TypedPayloadFlags = 0x04
	TypedPayloadProfileHint    TypedPayloadFlags = 0x08

	knownTypedPayloadFlags TypedPayloadFlags = 0x0F
)

// TypedPayloadStream is the stream_semantics of a typed payload descriptor
// and a schema's default_stream_semantics (D§4.5, D§11.6). Values above 2 are
// schema-defined and accepted.
type TypedPayloadStream uint16

// Stream semantics.
const (
	TypedPayloadStreamUnspecified TypedPayloadStream = 0
	TypedPayloadStreamSnapshot    TypedPayloadStream = 1
	TypedPayloadStreamAppend      TypedPayloadStream = 2
)

// TypedPayloadDescriptor is a typed payload descriptor (24 bytes, D§4.5): one
// non-tensor payload frame (token, audio, video, structured event, tool
// delta, opaque) inside the typed payload frame region.
type TypedPayloadDescriptor struct {
	ProfileID ProfileID `json:"profile_id"` // never 1 (tensor); 2 for token chunks
	// Kind is exactly one non-tensor payload kind bit (a u8 on the wire).
	Kind            PayloadKind        `json:"payload_kind"`
	Flags           TypedPayloadFlags  `json:"descriptor_flags"`
	SchemaID        uint32             `json:"schema_id"`
	SchemaVersion   uint32             `json:"schema_version"`
	StreamSemantics TypedPayloadStream `json:"stream_semantics"`
	Offset          uint32             `json:"offset"` // inside the typed payload frame region
	Length          uint32             `json:"length"`
}

// Len returns 24.
func (*TypedPayloadDescriptor) Len() int { return TypedPayloadDescriptorLen }

// validate applies the per-descriptor rules (D§4.5 rule 4 and the field
// table). The optional schema-registry binding check is not applied.
func (d *TypedPayloadDescriptor) validate(t MessageType) error {
	if d.Kind == 0 || d.Kind&(d.Kind-1) != 0 || d.Kind&^(knownPayloadKinds&^PayloadTensor) != 0 {
		return errInvalid(t, "typed_payload.payload_kind", "0x%x is not exactly one non-tensor payload kind", uint32(d.Kind))
	}
	if d.ProfileID == ProfileTensor {
		return errInvalid(t, "typed_payload.profile_id", "typed payloads cannot use the tensor profile")
	}
	if d.Kind == PayloadTokenChunk && d.ProfileID != ProfileToken {
		return errInvalid(t, "typed_payload.profile_id", "token chunk with profile %d, must be 2", d.ProfileID)
	}
	return checkMask(t, "typed_payload.descriptor_flags", d.Flags, knownTypedPayloadFlags)
}

// Append validates d and appends its 24 bytes to b.
func (d *TypedPayloadDescriptor) Append(b []byte) ([]byte, error) {
	if err := d.validate(0); err != nil {
		return b, err
	}
	return d.appendUnchecked(b), nil
}

func (d *TypedPayloadDescriptor) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(d.ProfileID))
	b = append(b, byte(d.Kind), byte(d.Flags))
	b = binary.LittleEndian.AppendUint32(b, d.SchemaID)
	b = binary.LittleEndian.AppendUint32(b, d.SchemaVersion)
	b = binary.LittleEndian.AppendUint16(b, uint16(d.StreamSemantics))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, d.Offset)
	b = binary.LittleEndian.AppendUint32(b, d.Length)
	return b
}

// ParseTypedPayloadDescriptor decodes and validates a typed payload
// descriptor from the start of b.
func ParseTypedPayloadDescriptor(b []byte) (TypedPayloadDescriptor, int, error) {
	return parseTypedPayloadDescriptor(0, b)
}

func parseTypedPayloadDescriptor(t MessageType, b []byte) (TypedPayloadDescriptor, int, error) {
	if len(b) < TypedPayloadDescriptorLen {
		return TypedPayloadDescriptor{}, 0, errShort(t, "typed_payload", TypedPayloadDescriptorLen, len(b))
	}
	d := readTypedPayloadDescriptor(b)
	if err := firstErr(
		checkZero(t, "typed_payload.reserved0", binary.LittleEndian.Uint16(b[14:])),
		d.validate(t),
	); err != nil {
		return TypedPayloadDescriptor{}, 0, err
	}
	return d, TypedPayloadDescriptorLen, nil
}

func readTypedPayloadDescriptor(b []byte) TypedPayloadDescriptor {
	return TypedPayloadDescriptor{
		ProfileID:       ProfileID(binary.LittleEndian.Uint16(b[0:])),
		Kind:            PayloadKind(b[2]),
		Flags:           TypedPayloadFlags(b[3]),
		SchemaID:        binary.LittleEndian.Uint32(b[4:]),
		SchemaVersion:   binary.LittleEndian.Uint32(b[8:]),
		StreamSemantics: TypedPayloadStream(binary.LittleEndian.Uint16(b[12:])),
		Offset:          binary.LittleEndian.Uint32(b[16:]),
		Length:          binary.LittleEndian.Uint32(b[20:]),
	}
}

// TypedPayloadRegion is a validated pair of typed payload descriptor and
// frame regions, aliasing the body.
type TypedPayloadRegion struct {
	desc   []byte
	frames []byte
}

// ParseTypedPayloadRegion validates a descriptor region and its frame region
// against the metadata's payload_frame_count and payload_kind_bitmap
// (D§4.5 rules 1–5): count × 24 descriptor bytes, both regions empty when the
// count is 0, descriptors packed back to back from offset 0 to exactly the
// end of the frame region, no tensor kind or profile, token chunks on profile
// 2, and the OR of the kinds equal to the bitmap's non-tensor bits.
func ParseTypedPayloadRegion(desc, frames []byte, count uint16, bitmap PayloadKind) (TypedPayloadRegion, error) {
	return parseTypedPayloadRegion(0, desc, frames, count, bitmap)
}

func parseTypedPayloadRegion(t MessageType, desc, frames []byte, count uint16, bitmap PayloadKind) (TypedPayloadRegion, error) {
	if len(desc) != int(count)*TypedPayloadDescriptorLen {
		return TypedPayloadRegion{}, errInvalid(t, "typed_payload_descriptor_bytes",
			"%d bytes for payload_frame_count %d", len(desc), count)
	}
	if count == 0 && len(frames) != 0 {
		return TypedPayloadRegion{}, errInvalid(t, "typed_payload_frame_bytes", "%d bytes without descriptors", len(frames))
	}
	var next uint64
	var kinds PayloadKind
	for i := range int(count) {
		d, _, err := parseTypedPayloadDescriptor(t, desc[i*TypedPayloadDescriptorLen:])
		if err != nil {
			return TypedPayloadRegion{}, err
		}
		if uint64(d.Offset) != next {
			return TypedPayloadRegion{}, errInvalid(t, "typed_payload.offset",
				"descriptor %d starts at %d, the previous frame ends at %d", i, d.Offset, next)
		}
		next += uint64(d.Length)
		kinds |= d.Kind
	}
	if next != uint64(len(frames)) {
		return TypedPayloadRegion{}, errInvalid(t, "typed_payload.length",
			"frames end at %d, the frame region is %d bytes", next, len(frames))
	}
	if want := bitmap &^ PayloadTensor; kinds != want {
		return TypedPayloadRegion{}, errInvalid(t, "payload_kind_bitmap",
			"non-tensor kinds 0x%x, the descriptors carry 0x%x (R7)", uint32(want), uint32(kinds))
	}
	return TypedPayloadRegion{desc: desc, frames: frames}, nil
}

// Len returns the number of typed payload frames.
func (r TypedPayloadRegion) Len() int { return len(r.desc) / TypedPayloadDescriptorLen }

// Descriptor returns descriptor i (0 ≤ i < Len()).
func (r TypedPayloadRegion) Descriptor(i int) TypedPayloadDescriptor {
	return readTypedPayloadDescriptor(r.desc[i*TypedPayloadDescriptorLen:])
}

// Frame returns the payload of frame i (0 ≤ i < Len()), aliasing the body.
func (r TypedPayloadRegion) Frame(i int) []byte {
	d := r.Descriptor(i)
	end := d.Offset + d.Length
	return r.frames[d.Offset:end:end]
}

// FrameBytes returns the whole typed payload frame region.
func (r TypedPayloadRegion) FrameBytes() []byte { return r.frames }

// TypedPayload is one typed payload frame to send: the descriptor fields the
// sender chooses and the payload. The builders derive offset and length.
type TypedPayload struct {
	ProfileID       ProfileID
	Kind            PayloadKind // exactly one non-tensor kind
	Flags           TypedPayloadFlags
	SchemaID        uint32
	SchemaVersion   uint32
	StreamSemantics TypedPayloadStream
	Payload         []byte // aliased by ResultBuilder segments, copied by SubmitBuilder
}

// TypedPayloadTokenChunk returns a token chunk with the standard values of
// the reference builders (D§4.5): profile 2, TOKEN_CHUNK, flag PARTIAL,
// schema 0x1001 v3, append semantics.
func TypedPayloadTokenChunk(payload []byte) TypedPayload {
	return TypedPayload{
		ProfileID: ProfileToken, Kind: PayloadTokenChunk, Flags: TypedPayloadPartial,
		SchemaID: SchemaIDTokenDelta, SchemaVersion: SchemaVersionTokenDelta,
		StreamSemantics: TypedPayloadStreamAppend, Payload: payload,
	}
}

// typedPlan checks the typed payloads to send and returns their kinds and
// total frame bytes.
func typedPlan(t MessageType, typed []TypedPayload) (PayloadKind, uint64, error) {
	if len(typed) > 0xFFFF {
		return 0, 0, errCode(t, CodeLimitExceeded, "payload_frame_count", "%d typed payloads", len(typed))
	}
	var kinds PayloadKind
	var total uint64
	for i := range typed {
		d := typed[i].descriptor(0)
		if err := d.validate(t); err != nil {
			return 0, 0, err
		}
		kinds |= d.Kind
		total += uint64(len(typed[i].Payload))
	}
	if total > maxU32 {
		return 0, 0, errCode(t, CodeLimitExceeded, "typed_payload_frame_bytes", "%d bytes", total)
	}
	return kinds, total, nil
}

func (p *TypedPayload) descriptor(offset uint32) TypedPayloadDescriptor {
	return TypedPayloadDescriptor{
		ProfileID: p.ProfileID, Kind: p.Kind, Flags: p.Flags, SchemaID: p.SchemaID,
		SchemaVersion: p.SchemaVersion, StreamSemantics: p.StreamSemantics,
		Offset: offset, Length: uint32(len(p.Payload)),
	}
}
