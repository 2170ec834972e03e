package wire

import (
	"encoding/binary"
	"fmt"
)

// ObjectReferenceLen is the size of an ObjectReferenceBlock (D§4.4).
const ObjectReferenceLen = 24

// ObjectReference is the ObjectReferenceBlock (24 bytes, D§4.4): a pointer
// to an object the peer installed earlier with CACHE_PUT, identified by
// (Kind, Namespace, KeyHi, KeyLo). The 16-byte preview2 block with u32 keys
// is historical and not accepted.
type ObjectReference struct {
	Kind      CacheObjectKind `json:"object_kind"` // registered kind 1–9
	Flags     uint16          `json:"ref_flags"`   // no flags are defined: must be 0
	Namespace uint32          `json:"cache_namespace"`
	KeyHi     uint64          `json:"cache_key_hi"` // high 64 bits of the 128-bit key
	KeyLo     uint64          `json:"cache_key_lo"`
}

// Len returns 24.
func (*ObjectReference) Len() int { return ObjectReferenceLen }

func (r *ObjectReference) validate(t MessageType) error {
	return firstErr(
		checkCacheObjectKind(t, "object_reference.object_kind", r.Kind),
		checkZero(t, "object_reference.ref_flags", r.Flags),
	)
}

// Append validates r and appends its 24 bytes to b.
func (r *ObjectReference) Append(b []byte) ([]byte, error) {
	if err := r.validate(0); err != nil {
		return b, err
	}
	return r.appendUnchecked(b), nil
}

func (r *ObjectReference) appendUnchecked(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(r.Kind))
	b = binary.LittleEndian.AppendUint16(b, r.Flags)
	b = binary.LittleEndian.AppendUint32(b, r.Namespace)
	b = binary.LittleEndian.AppendUint64(b, r.KeyHi)
	b = binary.LittleEndian.AppendUint64(b, r.KeyLo)
	return b
}

// ParseObjectReference decodes and validates an object reference block from
// the start of b.
func ParseObjectReference(b []byte) (ObjectReference, int, error) {
	return parseObjectReference(0, b)
}

func parseObjectReference(t MessageType, b []byte) (ObjectReference, int, error) {
	if len(b) < ObjectReferenceLen {
		return ObjectReference{}, 0, errShort(t, "object_reference", ObjectReferenceLen, len(b))
	}
	r := readObjectReference(b)
	if err := r.validate(t); err != nil {
		return ObjectReference{}, 0, err
	}
	return r, ObjectReferenceLen, nil
}

func readObjectReference(b []byte) ObjectReference {
	return ObjectReference{
		Kind:      CacheObjectKind(binary.LittleEndian.Uint16(b[0:])),
		Flags:     binary.LittleEndian.Uint16(b[2:]),
		Namespace: binary.LittleEndian.Uint32(b[4:]),
		KeyHi:     binary.LittleEndian.Uint64(b[8:]),
		KeyLo:     binary.LittleEndian.Uint64(b[16:]),
	}
}

// less orders references by (object_kind, cache_namespace, cache_key_hi,
// cache_key_lo), the order of a result's reference region (D§8.3).
func (r *ObjectReference) less(o *ObjectReference) bool {
	switch {
	case r.Kind != o.Kind:
		return r.Kind < o.Kind
	case r.Namespace != o.Namespace:
		return r.Namespace < o.Namespace
	case r.KeyHi != o.KeyHi:
		return r.KeyHi < o.KeyHi
	}
	return r.KeyLo < o.KeyLo
}

// ObjectReferenceRegion is a validated object reference region: a packed
// array of 24-byte blocks aliasing the body.
type ObjectReferenceRegion struct{ b []byte }

// ParseObjectReferenceRegion checks that region is a whole number of valid
// reference blocks (D§4.2, D§4.4). The slot and order rules depend on the
// message: see CheckSubmit and CheckResult.
func ParseObjectReferenceRegion(region []byte) (ObjectReferenceRegion, error) {
	return parseObjectReferenceRegion(0, region)
}

func parseObjectReferenceRegion(t MessageType, region []byte) (ObjectReferenceRegion, error) {
	if len(region)%ObjectReferenceLen != 0 {
		return ObjectReferenceRegion{}, errInvalid(t, "object_reference_bytes", "%d is not a multiple of %d",
			len(region), ObjectReferenceLen)
	}
	for off := 0; off < len(region); off += ObjectReferenceLen {
		if _, _, err := parseObjectReference(t, region[off:]); err != nil {
			return ObjectReferenceRegion{}, err
		}
	}
	return ObjectReferenceRegion{b: region}, nil
}

// Len returns the number of references.
func (r ObjectReferenceRegion) Len() int { return len(r.b) / ObjectReferenceLen }

// At returns reference i (0 ≤ i < Len()).
func (r ObjectReferenceRegion) At(i int) ObjectReference {
	return readObjectReference(r.b[i*ObjectReferenceLen:])
}

// Bytes returns the region's bytes.
func (r ObjectReferenceRegion) Bytes() []byte { return r.b }

// Slot returns the reference that fills a standard slot, if any.
func (r ObjectReferenceRegion) Slot(slot FrameSubmitSlots) (ObjectReference, bool) {
	for i := range r.Len() {
		if ref := r.At(i); slotOfKind(ref.Kind) == slot {
			return ref, true
		}
	}
	return ObjectReference{}, false
}

// Slots returns the set of standard slots the region references.
func (r ObjectReferenceRegion) Slots() FrameSubmitSlots {
	var s FrameSubmitSlots
	for i := range r.Len() {
		s |= slotOfKind(r.At(i).Kind)
	}
	return s
}

// CheckSubmit applies the FRAME_SUBMIT reference rules (D§5.3): blocks of
// standard kinds appear in slot order, no slot twice, and the slots present
// equal mask exactly. Blocks of non-standard kinds are ignored.
func (r ObjectReferenceRegion) CheckSubmit(mask FrameSubmitSlots) error {
	return r.checkSubmit(0, mask)
}

func (r ObjectReferenceRegion) checkSubmit(t MessageType, mask FrameSubmitSlots) error {
	var seen FrameSubmitSlots
	for i := range r.Len() {
		ref := r.At(i)
		slot := slotOfKind(ref.Kind)
		if slot == 0 {
			continue
		}
		if slot <= seen { // seen's highest bit is at or above slot: repeated or out of order
			return errInvalid(t, "object_reference.object_kind",
				"reference %d (kind %d) repeats a slot or breaks slot order", i, ref.Kind)
		}
		if mask&slot == 0 {
			return errInvalid(t, "object_ref_mask", "reference %d (kind %d) is for slot 0x%x, not in mask 0x%x",
				i, ref.Kind, uint32(slot), uint32(mask))
		}
		seen |= slot
	}
	if seen != mask {
		return errInvalid(t, "object_ref_mask", "mask 0x%x, but the references fill slots 0x%x",
			uint32(mask), uint32(seen))
	}
	return nil
}

// CheckResult applies the RESULT_PUSH reference rules (D§8.3): the region
// is sorted strictly ascending by (object_kind, cache_namespace,
// cache_key_hi, cache_key_lo) and references at most one tile index block
// and one tensor section table. Other registered kinds are accepted
// (lenient receive).
func (r ObjectReferenceRegion) CheckResult() error { return r.checkResult(0) }

func (r ObjectReferenceRegion) checkResult(t MessageType) error {
	var prev ObjectReference
	for i := range r.Len() {
		ref := r.At(i)
		if i > 0 {
			if !prev.less(&ref) {
				return errInvalid(t, "object_reference", "reference %d is not strictly above reference %d", i, i-1)
			}
			if ref.Kind == prev.Kind && (ref.Kind == ObjectTileIndexBlock || ref.Kind == ObjectTensorSectionTable) {
				return errInvalid(t, "object_reference.object_kind", "second reference of kind %d", ref.Kind)
			}
		}
		prev = ref
	}
	return nil
}

// ObjectReferenceResolver looks referenced objects up in the session's
// object cache (D§11). The returned payload must stay valid and unmodified
// for as long as the view that resolved it is used.
type ObjectReferenceResolver interface {
	ResolveObjectReference(ref ObjectReference) (payload []byte, ok bool)
}

// ObjectReferenceMissError is wrapped (with code CodeCacheMiss) by the error
// a view's Resolve returns for a reference the resolver does not know. The
// session layer answers it with CACHE_MISS (reason not_found) echoing Ref,
// then RESULT_DROP_REASON code 7 object_invalidated (D§11.5); find it with
// errors.As.
type ObjectReferenceMissError struct {
	Ref ObjectReference
}

func (e *ObjectReferenceMissError) Error() string {
	return fmt.Sprintf("nnrp: unresolved object reference kind %d namespace %d key %016x%016x",
		e.Ref.Kind, e.Ref.Namespace, e.Ref.KeyHi, e.Ref.KeyLo)
}

func errMiss(t MessageType, ref ObjectReference) error {
	miss := &ObjectReferenceMissError{Ref: ref}
	return &MessageError{Type: t, Code: CodeCacheMiss, Field: "object_reference",
		Reason: miss.Error(), err: miss}
}
