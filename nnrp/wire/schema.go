package wire

import "encoding/binary"

// SchemaDescriptorLen is the size of a schema descriptor header (D§11.6).
const SchemaDescriptorLen = 32

// SchemaFlags is SchemaDescriptor.schema_flags (D§11.6). The names are
// informative (nnrp-js); the mask is what receivers check.
type SchemaFlags uint16

// Schema flags.
const (
	SchemaBreakingChange    SchemaFlags = 0x1
	SchemaCompatibleUpdate  SchemaFlags = 0x2
	SchemaDependencyBound   SchemaFlags = 0x4
	SchemaBodySchemaPresent SchemaFlags = 0x8

	knownSchemaFlags SchemaFlags = 0xF
)

// The built-in token-delta schema (D§11.6).
const (
	SchemaIDTokenDelta      uint32 = 0x1001
	SchemaVersionTokenDelta uint32 = 3
	SchemaHashTokenDelta    uint64 = 0x6e6e7270746f6b33 // "3kotprnn" little-endian
)

// SchemaDescriptor is the schema descriptor header (32 bytes, D§11.6), the
// head of a schema object carried by cache/schema objects. BodyBytes of
// schema body and DependencyCount dependencies follow it in the object.
type SchemaDescriptor struct {
	SchemaID               uint32             `json:"schema_id"`
	SchemaVersion          uint32             `json:"schema_version"`
	ProfileID              ProfileID          `json:"profile_id"`
	Flags                  SchemaFlags        `json:"schema_flags"`
	MinVersionMajor        uint8              `json:"min_version_major"`
	MaxVersionMajor        uint8              `json:"max_version_major"`
	BodyBytes              uint32             `json:"body_bytes"`
	DependencyCount        uint16             `json:"dependency_count"`
	DefaultStreamSemantics TypedPayloadStream `json:"default_stream_semantics"`
	SchemaHash             uint64             `json:"schema_hash"`
}

// SchemaTokenDelta returns the descriptor of the built-in token-delta
// schema: id 0x1001, version 3, profile 2, no flags, majors 1..1, no body or
// dependencies, append semantics.
func SchemaTokenDelta() SchemaDescriptor {
	return SchemaDescriptor{
		SchemaID: SchemaIDTokenDelta, SchemaVersion: SchemaVersionTokenDelta, ProfileID: ProfileToken,
		MinVersionMajor: 1, MaxVersionMajor: 1, DefaultStreamSemantics: TypedPayloadStreamAppend,
		SchemaHash: SchemaHashTokenDelta,
	}
}

// Len returns 32.
func (*SchemaDescriptor) Len() int { return SchemaDescriptorLen }

func (s *SchemaDescriptor) validate() error {
	return checkMask(0, "schema.schema_flags", s.Flags, knownSchemaFlags)
}

// Append validates s and appends its 32 bytes to b.
func (s *SchemaDescriptor) Append(b []byte) ([]byte, error) {
	if err := s.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint32(b, s.SchemaID)
	b = binary.LittleEndian.AppendUint32(b, s.SchemaVersion)
	b = binary.LittleEndian.AppendUint16(b, uint16(s.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, uint16(s.Flags))
	b = append(b, s.MinVersionMajor, s.MaxVersionMajor)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, s.BodyBytes)
	b = binary.LittleEndian.AppendUint16(b, s.DependencyCount)
	b = binary.LittleEndian.AppendUint16(b, uint16(s.DefaultStreamSemantics))
	b = binary.LittleEndian.AppendUint64(b, s.SchemaHash)
	return b, nil
}

// ParseSchemaDescriptor decodes and validates a schema descriptor header
// from the start of b: flags within 0x0F, reserved u16 at 14 zero.
func ParseSchemaDescriptor(b []byte) (SchemaDescriptor, int, error) {
	if len(b) < SchemaDescriptorLen {
		return SchemaDescriptor{}, 0, errShort(0, "schema", SchemaDescriptorLen, len(b))
	}
	s := SchemaDescriptor{
		SchemaID:               binary.LittleEndian.Uint32(b[0:]),
		SchemaVersion:          binary.LittleEndian.Uint32(b[4:]),
		ProfileID:              ProfileID(binary.LittleEndian.Uint16(b[8:])),
		Flags:                  SchemaFlags(binary.LittleEndian.Uint16(b[10:])),
		MinVersionMajor:        b[12],
		MaxVersionMajor:        b[13],
		BodyBytes:              binary.LittleEndian.Uint32(b[16:]),
		DependencyCount:        binary.LittleEndian.Uint16(b[20:]),
		DefaultStreamSemantics: TypedPayloadStream(binary.LittleEndian.Uint16(b[22:])),
		SchemaHash:             binary.LittleEndian.Uint64(b[24:]),
	}
	if err := firstErr(
		checkZero(0, "schema.reserved0", binary.LittleEndian.Uint16(b[14:])),
		s.validate(),
	); err != nil {
		return SchemaDescriptor{}, 0, err
	}
	return s, SchemaDescriptorLen, nil
}
