package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Body blocks (D§4–§6) are not messages: the same block appears in
// FRAME_SUBMIT and RESULT_PUSH bodies. Their stand-alone codecs (ParseX,
// X.Append) report errors with message type 0; SubmitView, ResultView and
// the builders report the same errors under their own message type.

// BodyPreludeLen is the size of the BodyRegionPrelude (D§4.2).
const BodyPreludeLen = 32

// BodyPrelude is the BodyRegionPrelude (32 bytes, D§4.2) that opens every
// preview4 FRAME_SUBMIT and RESULT_PUSH body. It gives the length of each of
// the six regions that follow it, in order and without padding between them
// (D§4.1).
//
// Stand-alone rules (Append, ParseBodyPrelude): object_reference_bytes is a
// multiple of 24, typed_payload_descriptor_bytes a multiple of 24 (implied
// by the count rule for every count), extension_descriptor_bytes a multiple
// of 16, body_flags and the reserved word zero. CheckBody adds the rules that
// need the metadata and body length.
type BodyPrelude struct {
	InlineObjectBytes           uint32 `json:"inline_object_bytes"`
	ObjectReferenceBytes        uint32 `json:"object_reference_bytes"`
	TypedPayloadDescriptorBytes uint32 `json:"typed_payload_descriptor_bytes"`
	TypedPayloadFrameBytes      uint32 `json:"typed_payload_frame_bytes"`
	ExtensionDescriptorBytes    uint32 `json:"extension_descriptor_bytes"`
	ExtensionPayloadBytes       uint32 `json:"extension_payload_bytes"`
	BodyFlags                   uint32 `json:"body_flags"` // no flags are defined: must be 0
}

// Len returns 32.
func (*BodyPrelude) Len() int { return BodyPreludeLen }

// RegionBytes returns the sum of the six region lengths (the body length
// minus the prelude).
func (p *BodyPrelude) RegionBytes() uint64 {
	return uint64(p.InlineObjectBytes) + uint64(p.ObjectReferenceBytes) +
		uint64(p.TypedPayloadDescriptorBytes) + uint64(p.TypedPayloadFrameBytes) +
		uint64(p.ExtensionDescriptorBytes) + uint64(p.ExtensionPayloadBytes)
}

func (p *BodyPrelude) validate(t MessageType) error {
	if p.ObjectReferenceBytes%ObjectReferenceLen != 0 {
		return errInvalid(t, "prelude.object_reference_bytes", "%d is not a multiple of %d",
			p.ObjectReferenceBytes, ObjectReferenceLen)
	}
	if p.TypedPayloadDescriptorBytes%TypedPayloadDescriptorLen != 0 {
		return errInvalid(t, "prelude.typed_payload_descriptor_bytes", "%d is not a multiple of %d",
			p.TypedPayloadDescriptorBytes, TypedPayloadDescriptorLen)
	}
	if p.ExtensionDescriptorBytes%ExtensionDescriptorLen != 0 {
		return errInvalid(t, "prelude.extension_descriptor_bytes", "%d is not a multiple of %d",
			p.ExtensionDescriptorBytes, ExtensionDescriptorLen)
	}
	return checkZero(t, "prelude.body_flags", p.BodyFlags)
}

// CheckBody applies the rules that need the message: the whole-body sum
// (32 + Σ regions = bodyLen), typed_payload_descriptor_bytes =
// payloadFrameCount × 24, and an empty typed frame region when
// payloadFrameCount is 0 (D§4.2, D§4.5 rules 1–2).
func (p *BodyPrelude) CheckBody(bodyLen int, payloadFrameCount uint16) error {
	return p.checkBody(0, bodyLen, payloadFrameCount)
}

func (p *BodyPrelude) checkBody(t MessageType, bodyLen int, payloadFrameCount uint16) error {
	if sum := BodyPreludeLen + p.RegionBytes(); sum != uint64(bodyLen) {
		return errInvalid(t, "prelude", "32 + region lengths = %d, body_len is %d", sum, bodyLen)
	}
	if want := uint32(payloadFrameCount) * TypedPayloadDescriptorLen; p.TypedPayloadDescriptorBytes != want {
		return errInvalid(t, "prelude.typed_payload_descriptor_bytes", "is %d, payload_frame_count %d needs %d",
			p.TypedPayloadDescriptorBytes, payloadFrameCount, want)
	}
	if payloadFrameCount == 0 && p.TypedPayloadFrameBytes != 0 {
		return errInvalid(t, "prelude.typed_payload_frame_bytes", "is %d without typed payload descriptors",
			p.TypedPayloadFrameBytes)
	}
	return nil
}

// BodyRegions are the six regions of a prelude-form body, aliasing it.
type BodyRegions struct {
	Inline               []byte // inline object blocks (D§4.3)
	References           []byte // 24-byte object references (D§4.4)
	TypedDescriptors     []byte // 24-byte typed payload descriptors (D§4.5)
	TypedFrames          []byte // typed payload frame bytes
	ExtensionDescriptors []byte // 16-byte extension descriptors (D§4.6)
	ExtensionPayload     []byte
}

// Split cuts body (which starts with the prelude) into its regions. It
// requires 32 + RegionBytes() == len(body); call CheckBody first for the
// typed-region rules.
func (p *BodyPrelude) Split(body []byte) (BodyRegions, error) {
	if BodyPreludeLen+p.RegionBytes() != uint64(len(body)) {
		return BodyRegions{}, errInvalid(0, "prelude", "32 + region lengths = %d, body is %d bytes",
			BodyPreludeLen+p.RegionBytes(), len(body))
	}
	return p.split(body), nil
}

// split assumes the sum rule holds.
func (p *BodyPrelude) split(body []byte) BodyRegions {
	rest := body[BodyPreludeLen:]
	cut := func(n uint32) []byte {
		r := rest[:n:n]
		rest = rest[n:]
		return r
	}
	var r BodyRegions
	r.Inline = cut(p.InlineObjectBytes)
	r.References = cut(p.ObjectReferenceBytes)
	r.TypedDescriptors = cut(p.TypedPayloadDescriptorBytes)
	r.TypedFrames = cut(p.TypedPayloadFrameBytes)
	r.ExtensionDescriptors = cut(p.ExtensionDescriptorBytes)
	r.ExtensionPayload = cut(p.ExtensionPayloadBytes)
	return r
}

// Append validates p and appends its 32 bytes to b.
func (p *BodyPrelude) Append(b []byte) ([]byte, error) {
	if err := p.validate(0); err != nil {
		return b, err
	}
	return p.appendUnchecked(b), nil
}

func (p *BodyPrelude) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.InlineObjectBytes)
	b = binary.LittleEndian.AppendUint32(b, p.ObjectReferenceBytes)
	b = binary.LittleEndian.AppendUint32(b, p.TypedPayloadDescriptorBytes)
	b = binary.LittleEndian.AppendUint32(b, p.TypedPayloadFrameBytes)
	b = binary.LittleEndian.AppendUint32(b, p.ExtensionDescriptorBytes)
	b = binary.LittleEndian.AppendUint32(b, p.ExtensionPayloadBytes)
	b = binary.LittleEndian.AppendUint32(b, p.BodyFlags)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return b
}

// ParseBodyPrelude decodes and validates a BodyRegionPrelude from the start
// of b (stand-alone rules only; see CheckBody).
func ParseBodyPrelude(b []byte) (BodyPrelude, int, error) { return parseBodyPrelude(0, b) }

func parseBodyPrelude(t MessageType, b []byte) (BodyPrelude, int, error) {
	if len(b) < BodyPreludeLen {
		return BodyPrelude{}, 0, errShort(t, "prelude", BodyPreludeLen, len(b))
	}
	p := readPrelude(b)
	if err := firstErr(
		checkZero(t, "prelude.reserved", binary.LittleEndian.Uint32(b[28:])),
		p.validate(t),
	); err != nil {
		return BodyPrelude{}, 0, err
	}
	return p, BodyPreludeLen, nil
}

func readPrelude(b []byte) BodyPrelude {
	return BodyPrelude{
		InlineObjectBytes:           binary.LittleEndian.Uint32(b[0:]),
		ObjectReferenceBytes:        binary.LittleEndian.Uint32(b[4:]),
		TypedPayloadDescriptorBytes: binary.LittleEndian.Uint32(b[8:]),
		TypedPayloadFrameBytes:      binary.LittleEndian.Uint32(b[12:]),
		ExtensionDescriptorBytes:    binary.LittleEndian.Uint32(b[16:]),
		ExtensionPayloadBytes:       binary.LittleEndian.Uint32(b[20:]),
		BodyFlags:                   binary.LittleEndian.Uint32(b[24:]),
	}
}

// isPreludeForm applies the tolerant receiver's detection rule (D§5.9): the
// body is in prelude form when it is at least 32 bytes, bytes 24..31 are
// zero, the region lengths add up to the body length, and the reference,
// typed-descriptor and extension-descriptor lengths have their exact shapes.
func isPreludeForm(body []byte, payloadFrameCount uint16) bool {
	if len(body) < BodyPreludeLen || binary.LittleEndian.Uint64(body[24:]) != 0 {
		return false
	}
	p := readPrelude(body)
	return BodyPreludeLen+p.RegionBytes() == uint64(len(body)) &&
		p.ObjectReferenceBytes%ObjectReferenceLen == 0 &&
		p.TypedPayloadDescriptorBytes == uint32(payloadFrameCount)*TypedPayloadDescriptorLen &&
		p.ExtensionDescriptorBytes%ExtensionDescriptorLen == 0
}

// align8 rounds n up to a multiple of 8.
func align8[T ~int | ~uint32 | ~uint64](n T) T { return (n + 7) &^ 7 }

// allZero reports whether every byte of b is zero.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// errTruncated reports a structure that ends before its content does, with
// a formatted reason; it wraps io.ErrUnexpectedEOF like errShort.
func errTruncated(t MessageType, field, format string, args ...any) error {
	return &MessageError{Type: t, Code: CodeMalformedBody, Field: field,
		Reason: fmt.Sprintf(format, args...), err: io.ErrUnexpectedEOF}
}
