package wire

import "encoding/binary"

// InlineObjectHeaderLen is the size of an InlineObjectBlockHeader (D§4.3).
const InlineObjectHeaderLen = 16

// InlineObjectHeader is the InlineObjectBlockHeader (16 bytes, D§4.3) that
// opens each block of the inline object region. A block on the wire is the
// header, ObjectBytes of payload and zero padding to the next multiple of 8:
// align8(16 + ObjectBytes) bytes in all.
type InlineObjectHeader struct {
	Kind      CacheObjectKind `json:"object_kind"`  // registered kind 1–9
	Flags     uint16          `json:"object_flags"` // no flags are defined: must be 0
	ProfileID ProfileID       `json:"profile_id"`   // builders write 0
	// ObjectBytes is the payload length, excluding padding.
	ObjectBytes uint32 `json:"object_bytes"`
}

// Len returns 16.
func (*InlineObjectHeader) Len() int { return InlineObjectHeaderLen }

// BlockBytes returns the size of the whole block on the wire, padding
// included.
func (h *InlineObjectHeader) BlockBytes() uint64 {
	return align8(uint64(InlineObjectHeaderLen) + uint64(h.ObjectBytes))
}

func (h *InlineObjectHeader) validate(t MessageType) error {
	return firstErr(
		checkCacheObjectKind(t, "inline_object.object_kind", h.Kind),
		checkZero(t, "inline_object.object_flags", h.Flags),
	)
}

// Append validates h and appends its 16 bytes to b.
func (h *InlineObjectHeader) Append(b []byte) ([]byte, error) {
	if err := h.validate(0); err != nil {
		return b, err
	}
	return h.appendUnchecked(b), nil
}

func (h *InlineObjectHeader) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(h.Kind))
	b = binary.LittleEndian.AppendUint16(b, h.Flags)
	b = binary.LittleEndian.AppendUint16(b, uint16(h.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, h.ObjectBytes)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return b
}

// ParseInlineObjectHeader decodes and validates an inline object block
// header from the start of b.
func ParseInlineObjectHeader(b []byte) (InlineObjectHeader, int, error) {
	return parseInlineObjectHeader(0, b)
}

func parseInlineObjectHeader(t MessageType, b []byte) (InlineObjectHeader, int, error) {
	if len(b) < InlineObjectHeaderLen {
		return InlineObjectHeader{}, 0, errShort(t, "inline_object", InlineObjectHeaderLen, len(b))
	}
	h := InlineObjectHeader{
		Kind:        CacheObjectKind(binary.LittleEndian.Uint16(b[0:])),
		Flags:       binary.LittleEndian.Uint16(b[2:]),
		ProfileID:   ProfileID(binary.LittleEndian.Uint16(b[4:])),
		ObjectBytes: binary.LittleEndian.Uint32(b[8:]),
	}
	if err := firstErr(
		checkZero(t, "inline_object.reserved0", binary.LittleEndian.Uint16(b[6:])),
		checkZero(t, "inline_object.reserved1", binary.LittleEndian.Uint32(b[12:])),
		h.validate(t),
	); err != nil {
		return InlineObjectHeader{}, 0, err
	}
	return h, InlineObjectHeaderLen, nil
}

// AppendInlineObject appends one inline object block: a header of the given
// kind and profile with ObjectBytes = len(payload), the payload and its zero
// padding.
func AppendInlineObject(b []byte, kind CacheObjectKind, profile ProfileID, payload []byte) ([]byte, error) {
	h := InlineObjectHeader{Kind: kind, ProfileID: profile, ObjectBytes: uint32(len(payload))}
	if uint64(len(payload)) > maxU32-InlineObjectHeaderLen {
		return b, errCode(0, CodeLimitExceeded, "inline_object.object_bytes", "%d bytes", len(payload))
	}
	b, err := h.Append(b)
	if err != nil {
		return b, err
	}
	b = append(b, payload...)
	return appendZeros(b, int(h.BlockBytes())-InlineObjectHeaderLen-len(payload)), nil
}

// InlineObject is one block of the inline object region. Payload aliases
// the body.
type InlineObject struct {
	Header  InlineObjectHeader
	Payload []byte
}

// InlineObjectWalker walks an inline object region without allocating
// (D§4.3, D§5.8 rule 3): every header valid, every block's padding present
// and zero, the region consumed exactly, and at most one block of each
// standard slot kind (camera, tile index, tensor section table, payload
// layout template). Use it as
//
//	w := NewInlineObjectWalker(region)
//	for obj, ok := w.Next(); ok; obj, ok = w.Next() { ... }
//	if err := w.Err(); err != nil { ... }
type InlineObjectWalker struct {
	t    MessageType
	rest []byte
	seen FrameSubmitSlots
	err  error
}

// NewInlineObjectWalker returns a walker over region.
func NewInlineObjectWalker(region []byte) InlineObjectWalker {
	return InlineObjectWalker{rest: region}
}

// Next returns the next block. It returns false at the end of the region or
// on the first invalid block; Err tells which.
func (w *InlineObjectWalker) Next() (InlineObject, bool) {
	if w.err != nil || len(w.rest) == 0 {
		return InlineObject{}, false
	}
	h, _, err := parseInlineObjectHeader(w.t, w.rest)
	if err != nil {
		w.err = err
		return InlineObject{}, false
	}
	block := h.BlockBytes()
	if block > uint64(len(w.rest)) {
		w.err = errShort(w.t, "inline_object.object_bytes", int(min(block, maxU32)), len(w.rest))
		return InlineObject{}, false
	}
	end := InlineObjectHeaderLen + int(h.ObjectBytes)
	if !allZero(w.rest[end:block]) {
		w.err = errInvalid(w.t, "inline_object.padding", "non-zero padding after a kind %d block", h.Kind)
		return InlineObject{}, false
	}
	if slot := slotOfKind(h.Kind); slot != 0 {
		if w.seen&slot != 0 {
			w.err = errInvalid(w.t, "inline_object.object_kind", "second inline block of standard kind %d", h.Kind)
			return InlineObject{}, false
		}
		w.seen |= slot
	}
	obj := InlineObject{Header: h, Payload: w.rest[InlineObjectHeaderLen:end:end]}
	w.rest = w.rest[block:]
	return obj, true
}

// Err returns the error that stopped the walk, or nil.
func (w *InlineObjectWalker) Err() error { return w.err }

const maxU32 = 1<<32 - 1

// appendZeros appends n zero bytes.
func appendZeros(b []byte, n int) []byte {
	if n <= 0 {
		return b
	}
	return append(b, make([]byte, n)...) // the compiler appends zeros in place
}
