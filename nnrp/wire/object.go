package wire

import "encoding/binary"

// Runtime objects (C§7.8, D§11.7): OBJECT_DECLARE, OBJECT_REF, OBJECT_RELEASE,
// OBJECT_PATCH and OBJECT_DELTA. Their extensions travel in the body (the
// runtime packaging of C§2.2), never after the fixed metadata.

// ObjectKind is OBJECT_DECLARE.object_kind, the kind of a runtime object
// (C§7.8). It is distinct from CacheObjectKind.
type ObjectKind uint16

// Runtime object kinds.
const (
	ObjectKindUnspecified   ObjectKind = 0
	ObjectKindTensor        ObjectKind = 1
	ObjectKindTokenBlock    ObjectKind = 2
	ObjectKindImageTile     ObjectKind = 3
	ObjectKindFeatureMap    ObjectKind = 4
	ObjectKindToolResult    ObjectKind = 5
	ObjectKindTraceSegment  ObjectKind = 6
	ObjectKindOpaqueBytes   ObjectKind = 7
	ObjectKindDocumentChunk ObjectKind = 8
	ObjectKindAudioChunk    ObjectKind = 9
	ObjectKindVideoChunk    ObjectKind = 10
	ObjectKindRoutePlan     ObjectKind = 11
	ObjectKindCacheManifest ObjectKind = 12
)

var objectKindNames = []string{
	"unspecified", "tensor", "token_block", "image_tile", "feature_map", "tool_result",
	"trace_segment", "opaque_bytes", "document_chunk", "audio_chunk", "video_chunk",
	"route_plan", "cache_manifest",
}

func (k ObjectKind) String() string { return registryName(objectKindNames, uint64(k), "object_kind") }

// MemoryLocation is OBJECT_DECLARE.memory_location_hint (C§7.8).
type MemoryLocation uint16

// Memory location hints.
const (
	MemoryUnspecified MemoryLocation = 0
	MemoryHost        MemoryLocation = 1
	MemoryDevice      MemoryLocation = 2
	MemoryShared      MemoryLocation = 3
	MemoryRemote      MemoryLocation = 4
	MemoryMmapFile    MemoryLocation = 5
	MemoryObjectStore MemoryLocation = 6
)

var memoryLocationNames = []string{
	"unspecified", "host_memory", "device_memory", "shared_memory", "remote_memory",
	"mmap_file", "object_store",
}

func (l MemoryLocation) String() string {
	return registryName(memoryLocationNames, uint64(l), "memory_location_hint")
}

// Ownership is OBJECT_DECLARE.ownership_hint (C§7.8).
type Ownership uint16

// Ownership hints.
const (
	OwnershipUnspecified   Ownership = 0
	OwnershipProducer      Ownership = 1
	OwnershipConsumer      Ownership = 2
	OwnershipSession       Ownership = 3
	OwnershipBorrowed      Ownership = 4
	OwnershipTransferOnRef Ownership = 5
	OwnershipReleaseOnDrop Ownership = 6
)

var ownershipNames = []string{
	"unspecified", "producer_owned", "consumer_owned", "session_owned", "borrowed",
	"transfer_on_ref", "release_on_drop",
}

func (o Ownership) String() string { return registryName(ownershipNames, uint64(o), "ownership_hint") }

// ReleaseReason is OBJECT_RELEASE.release_reason (C§7.8).
type ReleaseReason uint16

// Release reasons.
const (
	ReleaseCompleted            ReleaseReason = 0
	ReleaseCancelled            ReleaseReason = 1
	ReleaseExpired              ReleaseReason = 2
	ReleaseReplaced             ReleaseReason = 3
	ReleaseInvalidated          ReleaseReason = 4
	ReleaseOwnerClosed          ReleaseReason = 5
	ReleaseLeaseExpired         ReleaseReason = 6
	ReleaseConformanceInjection ReleaseReason = 7
)

var releaseReasonNames = []string{
	"completed", "cancelled", "expired", "replaced", "invalidated", "owner_closed",
	"lease_expired", "conformance_injection",
}

func (r ReleaseReason) String() string {
	return registryName(releaseReasonNames, uint64(r), "release_reason")
}

const (
	objectDeclareLen = 48
	objectRefLen     = 48
	objectReleaseLen = 32
	objectPatchLen   = 40
)

// ObjectDeclare is the metadata of OBJECT_DECLARE (type 0x41, 48 bytes,
// C§7.8): it announces a runtime object with its cost and ownership. The body
// is an extension (e.g. a JSON shape description) of MetadataBytes bytes. Not
// operation-correlated.
type ObjectDeclare struct {
	ObjectID         uint64         `json:"object_id"`
	Kind             ObjectKind     `json:"object_kind"`
	ProducerRole     Role           `json:"producer_role"` // 0–7 only
	ConsumerRole     Role           `json:"consumer_role"` // 0–7 only
	SessionID        uint32         `json:"session_id"`    // owning session
	ByteSize         uint64         `json:"byte_size"`
	ComputeCostUnits uint32         `json:"compute_cost_units"`
	MemoryLocation   MemoryLocation `json:"memory_location_hint"`
	Ownership        Ownership      `json:"ownership_hint"`
	LifetimeHintMS   uint32         `json:"lifetime_hint_ms"`
	MetadataBytes    uint32         `json:"metadata_bytes"`
}

// Type returns TypeObjectDeclare.
func (*ObjectDeclare) Type() MessageType { return TypeObjectDeclare }

// Len returns 48.
func (*ObjectDeclare) Len() int { return objectDeclareLen }

// ExpectedBodyLen returns MetadataBytes.
func (m *ObjectDeclare) ExpectedBodyLen() (uint64, bool) { return uint64(m.MetadataBytes), true }

func (m *ObjectDeclare) validate() error {
	const t = TypeObjectDeclare
	return firstErr(
		checkMax(t, "object_kind", m.Kind, ObjectKindCacheManifest),
		checkStrictRole(t, "producer_role", m.ProducerRole),
		checkStrictRole(t, "consumer_role", m.ConsumerRole),
		checkMax(t, "memory_location_hint", m.MemoryLocation, MemoryObjectStore),
		checkMax(t, "ownership_hint", m.Ownership, OwnershipReleaseOnDrop),
	)
}

// Append validates m and appends its 48 bytes to b.
func (m *ObjectDeclare) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.ObjectID)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Kind))
	b = append(b, byte(m.ProducerRole), byte(m.ConsumerRole))
	b = binary.LittleEndian.AppendUint32(b, m.SessionID)
	b = binary.LittleEndian.AppendUint64(b, m.ByteSize)
	b = binary.LittleEndian.AppendUint32(b, m.ComputeCostUnits)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.MemoryLocation))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Ownership))
	b = binary.LittleEndian.AppendUint32(b, m.LifetimeHintMS)
	b = binary.LittleEndian.AppendUint32(b, m.MetadataBytes)
	b = binary.LittleEndian.AppendUint64(b, 0) // reserved
	return b, nil
}

// ParseObjectDeclare decodes and validates OBJECT_DECLARE metadata from the
// start of b.
func ParseObjectDeclare(b []byte) (ObjectDeclare, int, error) {
	if len(b) < objectDeclareLen {
		return ObjectDeclare{}, 0, errShort(TypeObjectDeclare, "metadata", objectDeclareLen, len(b))
	}
	m := ObjectDeclare{
		ObjectID:         binary.LittleEndian.Uint64(b[0:]),
		Kind:             ObjectKind(binary.LittleEndian.Uint16(b[8:])),
		ProducerRole:     Role(b[10]),
		ConsumerRole:     Role(b[11]),
		SessionID:        binary.LittleEndian.Uint32(b[12:]),
		ByteSize:         binary.LittleEndian.Uint64(b[16:]),
		ComputeCostUnits: binary.LittleEndian.Uint32(b[24:]),
		MemoryLocation:   MemoryLocation(binary.LittleEndian.Uint16(b[28:])),
		Ownership:        Ownership(binary.LittleEndian.Uint16(b[30:])),
		LifetimeHintMS:   binary.LittleEndian.Uint32(b[32:]),
		MetadataBytes:    binary.LittleEndian.Uint32(b[36:]),
	}
	if err := firstErr(
		checkZero(TypeObjectDeclare, "reserved", binary.LittleEndian.Uint64(b[40:])),
		m.validate(),
	); err != nil {
		return ObjectDeclare{}, 0, err
	}
	return m, objectDeclareLen, nil
}

// ObjectRefFlags is the flags word of OBJECT_REF (C§7.8).
type ObjectRefFlags uint32

// Object reference flags.
const (
	ObjectRefBorrowed      ObjectRefFlags = 0x1
	ObjectRefMutable       ObjectRefFlags = 0x2
	ObjectRefRegionPresent ObjectRefFlags = 0x4 // Offset and Length name a region

	knownObjectRefFlags = ObjectRefBorrowed | ObjectRefMutable | ObjectRefRegionPresent
)

// ObjectRef is the metadata of OBJECT_REF (type 0x42, 48 bytes, C§7.8): an
// operation's use of a runtime object. The body is an extension of
// MetadataBytes bytes.
type ObjectRef struct {
	ObjectID uint64 `json:"object_id"`
	// OperationID is the operation using the object; the header frame_id
	// must match it (CheckOperationFrame).
	OperationID   uint64         `json:"operation_id"`
	ObjectVersion uint64         `json:"object_version"` // content revision
	Offset        uint64         `json:"offset"`         // region start
	Length        uint64         `json:"length"`         // region length
	Flags         ObjectRefFlags `json:"flags"`
	MetadataBytes uint32         `json:"metadata_bytes"`
}

// Type returns TypeObjectRef.
func (*ObjectRef) Type() MessageType { return TypeObjectRef }

// Len returns 48.
func (*ObjectRef) Len() int { return objectRefLen }

// ExpectedBodyLen returns MetadataBytes.
func (m *ObjectRef) ExpectedBodyLen() (uint64, bool) { return uint64(m.MetadataBytes), true }

// CorrelatedOperation returns OperationID.
func (m *ObjectRef) CorrelatedOperation() uint64 { return m.OperationID }

func (m *ObjectRef) validate() error {
	return checkMask(TypeObjectRef, "flags", m.Flags, knownObjectRefFlags)
}

// Append validates m and appends its 48 bytes to b.
func (m *ObjectRef) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.ObjectID)
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint64(b, m.ObjectVersion)
	b = binary.LittleEndian.AppendUint64(b, m.Offset)
	b = binary.LittleEndian.AppendUint64(b, m.Length)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.MetadataBytes)
	return b, nil
}

// ParseObjectRef decodes and validates OBJECT_REF metadata from the start of
// b.
func ParseObjectRef(b []byte) (ObjectRef, int, error) {
	if len(b) < objectRefLen {
		return ObjectRef{}, 0, errShort(TypeObjectRef, "metadata", objectRefLen, len(b))
	}
	m := ObjectRef{
		ObjectID:      binary.LittleEndian.Uint64(b[0:]),
		OperationID:   binary.LittleEndian.Uint64(b[8:]),
		ObjectVersion: binary.LittleEndian.Uint64(b[16:]),
		Offset:        binary.LittleEndian.Uint64(b[24:]),
		Length:        binary.LittleEndian.Uint64(b[32:]),
		Flags:         ObjectRefFlags(binary.LittleEndian.Uint32(b[40:])),
		MetadataBytes: binary.LittleEndian.Uint32(b[44:]),
	}
	if err := m.validate(); err != nil {
		return ObjectRef{}, 0, err
	}
	return m, objectRefLen, nil
}

// ObjectReleaseFlags is the flags byte of OBJECT_RELEASE (C§7.8).
type ObjectReleaseFlags uint8

// Object release flags.
const (
	ObjectReleaseFinal                 ObjectReleaseFlags = 0x01
	ObjectReleaseInvalidatesDependents ObjectReleaseFlags = 0x02

	knownObjectReleaseFlags = ObjectReleaseFinal | ObjectReleaseInvalidatesDependents
)

// ObjectRelease is the metadata of OBJECT_RELEASE (type 0x43, 32 bytes,
// C§7.8). The body is a diagnostic of DiagnosticBytes bytes.
type ObjectRelease struct {
	ObjectID uint64 `json:"object_id"`
	// OperationID is the operation releasing the object; the header frame_id
	// must match it (CheckOperationFrame).
	OperationID     uint64             `json:"operation_id"`
	Reason          ReleaseReason      `json:"release_reason"`
	SourceRole      Role               `json:"source_role"` // 0–7 only
	Flags           ObjectReleaseFlags `json:"flags"`
	DiagnosticBytes uint32             `json:"diagnostic_bytes"`
}

// Type returns TypeObjectRelease.
func (*ObjectRelease) Type() MessageType { return TypeObjectRelease }

// Len returns 32.
func (*ObjectRelease) Len() int { return objectReleaseLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *ObjectRelease) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

// CorrelatedOperation returns OperationID.
func (m *ObjectRelease) CorrelatedOperation() uint64 { return m.OperationID }

func (m *ObjectRelease) validate() error {
	const t = TypeObjectRelease
	return firstErr(
		checkMax(t, "release_reason", m.Reason, ReleaseConformanceInjection),
		checkStrictRole(t, "source_role", m.SourceRole),
		checkMask(t, "flags", m.Flags, knownObjectReleaseFlags),
	)
}

// Append validates m and appends its 32 bytes to b.
func (m *ObjectRelease) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint64(b, m.ObjectID)
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = append(b, byte(m.SourceRole), byte(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	b = binary.LittleEndian.AppendUint64(b, 0) // reserved
	return b, nil
}

// ParseObjectRelease decodes and validates OBJECT_RELEASE metadata from the
// start of b.
func ParseObjectRelease(b []byte) (ObjectRelease, int, error) {
	if len(b) < objectReleaseLen {
		return ObjectRelease{}, 0, errShort(TypeObjectRelease, "metadata", objectReleaseLen, len(b))
	}
	m := ObjectRelease{
		ObjectID:        binary.LittleEndian.Uint64(b[0:]),
		OperationID:     binary.LittleEndian.Uint64(b[8:]),
		Reason:          ReleaseReason(binary.LittleEndian.Uint16(b[16:])),
		SourceRole:      Role(b[18]),
		Flags:           ObjectReleaseFlags(b[19]),
		DiagnosticBytes: binary.LittleEndian.Uint32(b[20:]),
	}
	if err := firstErr(
		checkZero(TypeObjectRelease, "reserved", binary.LittleEndian.Uint64(b[24:])),
		m.validate(),
	); err != nil {
		return ObjectRelease{}, 0, err
	}
	return m, objectReleaseLen, nil
}

// PatchFlags is the flags word of OBJECT_PATCH and OBJECT_DELTA (C§7.8).
type PatchFlags uint32

// Patch/delta flags.
const (
	PatchReplacesRegion PatchFlags = 0x1
	PatchCompressed     PatchFlags = 0x2
	PatchFinalDelta     PatchFlags = 0x4

	knownPatchFlags = PatchReplacesRegion | PatchCompressed | PatchFinalDelta
)

// ObjectPatch is the metadata of OBJECT_PATCH (type 0x44, 40 bytes, C§7.8).
// OBJECT_DELTA shares the layout (ObjectDelta). The body is the extension
// (MetadataBytes bytes) followed by the delta payload (DeltaBytes bytes); see
// SplitBody. Not operation-correlated.
type ObjectPatch struct {
	ObjectID      uint64     `json:"object_id"`
	DeltaSequence uint64     `json:"delta_sequence"`
	RegionOffset  uint64     `json:"region_offset"`
	RegionBytes   uint32     `json:"region_bytes"`
	DeltaBytes    uint32     `json:"delta_bytes"` // second part of the body
	Flags         PatchFlags `json:"flags"`
	MetadataBytes uint32     `json:"metadata_bytes"` // first part of the body
}

// ObjectDelta is the metadata of OBJECT_DELTA (type 0x45, 40 bytes, C§7.8).
// Layout of ObjectPatch.
type ObjectDelta ObjectPatch

func (m *ObjectPatch) check(t MessageType) error {
	return checkMask(t, "flags", m.Flags, knownPatchFlags)
}

func (m *ObjectPatch) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, m.ObjectID)
	b = binary.LittleEndian.AppendUint64(b, m.DeltaSequence)
	b = binary.LittleEndian.AppendUint64(b, m.RegionOffset)
	b = binary.LittleEndian.AppendUint32(b, m.RegionBytes)
	b = binary.LittleEndian.AppendUint32(b, m.DeltaBytes)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return binary.LittleEndian.AppendUint32(b, m.MetadataBytes)
}

// bodyLen is the implied body length, computed in 64 bits so that two
// large u32 lengths cannot wrap.
func (m *ObjectPatch) bodyLen() uint64 { return uint64(m.MetadataBytes) + uint64(m.DeltaBytes) }

// split cuts body into extension and delta payload. The parts alias body.
func (m *ObjectPatch) split(t MessageType, body []byte) (extension, delta []byte, err error) {
	if uint64(len(body)) != m.bodyLen() {
		return nil, nil, errInvalid(t, "body_len", "got %d, metadata_bytes + delta_bytes = %d", len(body), m.bodyLen())
	}
	n := int(m.MetadataBytes)
	return body[:n:n], body[n:], nil
}

func parseObjectPatch(t MessageType, b []byte) (ObjectPatch, int, error) {
	if len(b) < objectPatchLen {
		return ObjectPatch{}, 0, errShort(t, "metadata", objectPatchLen, len(b))
	}
	m := ObjectPatch{
		ObjectID:      binary.LittleEndian.Uint64(b[0:]),
		DeltaSequence: binary.LittleEndian.Uint64(b[8:]),
		RegionOffset:  binary.LittleEndian.Uint64(b[16:]),
		RegionBytes:   binary.LittleEndian.Uint32(b[24:]),
		DeltaBytes:    binary.LittleEndian.Uint32(b[28:]),
		Flags:         PatchFlags(binary.LittleEndian.Uint32(b[32:])),
		MetadataBytes: binary.LittleEndian.Uint32(b[36:]),
	}
	if err := m.check(t); err != nil {
		return ObjectPatch{}, 0, err
	}
	return m, objectPatchLen, nil
}

// Type returns TypeObjectPatch.
func (*ObjectPatch) Type() MessageType { return TypeObjectPatch }

// Len returns 40.
func (*ObjectPatch) Len() int { return objectPatchLen }

// ExpectedBodyLen returns MetadataBytes + DeltaBytes.
func (m *ObjectPatch) ExpectedBodyLen() (uint64, bool) { return m.bodyLen(), true }

// SplitBody returns the extension and the delta payload of body, which must
// be exactly MetadataBytes + DeltaBytes long. Both alias body.
func (m *ObjectPatch) SplitBody(body []byte) (extension, delta []byte, err error) {
	return m.split(TypeObjectPatch, body)
}

func (m *ObjectPatch) validate() error { return m.check(TypeObjectPatch) }

// Append validates m and appends its 40 bytes to b.
func (m *ObjectPatch) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// ParseObjectPatch decodes and validates OBJECT_PATCH metadata from the start
// of b.
func ParseObjectPatch(b []byte) (ObjectPatch, int, error) {
	return parseObjectPatch(TypeObjectPatch, b)
}

// Type returns TypeObjectDelta.
func (*ObjectDelta) Type() MessageType { return TypeObjectDelta }

// Len returns 40.
func (*ObjectDelta) Len() int { return objectPatchLen }

// ExpectedBodyLen returns MetadataBytes + DeltaBytes.
func (m *ObjectDelta) ExpectedBodyLen() (uint64, bool) { return (*ObjectPatch)(m).bodyLen(), true }

// SplitBody returns the extension and the delta payload of body, which must
// be exactly MetadataBytes + DeltaBytes long. Both alias body.
func (m *ObjectDelta) SplitBody(body []byte) (extension, delta []byte, err error) {
	return (*ObjectPatch)(m).split(TypeObjectDelta, body)
}

func (m *ObjectDelta) validate() error { return (*ObjectPatch)(m).check(TypeObjectDelta) }

// Append validates m and appends its 40 bytes to b.
func (m *ObjectDelta) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*ObjectPatch)(m).put(b), nil
}

// ParseObjectDelta decodes and validates OBJECT_DELTA metadata from the start
// of b.
func ParseObjectDelta(b []byte) (ObjectDelta, int, error) {
	m, n, err := parseObjectPatch(TypeObjectDelta, b)
	return ObjectDelta(m), n, err
}
