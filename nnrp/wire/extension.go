package wire

import "encoding/binary"

// ExtensionDescriptorLen is the size of an extension descriptor (D§4.6).
const ExtensionDescriptorLen = 16

// ExtensionFlags is ExtensionDescriptor.extension_flags (D§4.6).
type ExtensionFlags uint16

// Extension flags. Other bits are reserved and rejected.
const (
	// ExtensionCritical marks an extension the receiver must understand.
	// No critical extension is negotiable in preview4, so a body carrying
	// one is rejected with CodeUnsupportedCapability.
	ExtensionCritical ExtensionFlags = 0x1

	knownExtensionFlags ExtensionFlags = 0x1
)

// ExtensionDescriptor is an extension descriptor (16 bytes, D§4.6). No
// standard extension kinds exist; receivers skip non-critical extensions.
type ExtensionDescriptor struct {
	Kind      uint16         `json:"extension_kind"`
	Flags     ExtensionFlags `json:"extension_flags"`
	ProfileID ProfileID      `json:"profile_id"`
	// PayloadOffset and PayloadLength locate the extension's bytes inside
	// the extension payload region.
	PayloadOffset uint32 `json:"payload_offset"`
	PayloadLength uint32 `json:"payload_length"`
}

// Len returns 16.
func (*ExtensionDescriptor) Len() int { return ExtensionDescriptorLen }

func (d *ExtensionDescriptor) validate(t MessageType) error {
	return checkMask(t, "extension.extension_flags", d.Flags, knownExtensionFlags)
}

// Append validates d and appends its 16 bytes to b.
func (d *ExtensionDescriptor) Append(b []byte) ([]byte, error) {
	if err := d.validate(0); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint16(b, d.Kind)
	b = binary.LittleEndian.AppendUint16(b, uint16(d.Flags))
	b = binary.LittleEndian.AppendUint16(b, uint16(d.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, d.PayloadOffset)
	b = binary.LittleEndian.AppendUint32(b, d.PayloadLength)
	return b, nil
}

// ParseExtensionDescriptor decodes and validates an extension descriptor
// from the start of b. A CRITICAL descriptor is well formed; the region check
// (ParseExtensionRegion) is what refuses it.
func ParseExtensionDescriptor(b []byte) (ExtensionDescriptor, int, error) {
	return parseExtensionDescriptor(0, b)
}

func parseExtensionDescriptor(t MessageType, b []byte) (ExtensionDescriptor, int, error) {
	if len(b) < ExtensionDescriptorLen {
		return ExtensionDescriptor{}, 0, errShort(t, "extension", ExtensionDescriptorLen, len(b))
	}
	d := readExtensionDescriptor(b)
	if err := firstErr(
		checkZero(t, "extension.reserved0", binary.LittleEndian.Uint16(b[6:])),
		d.validate(t),
	); err != nil {
		return ExtensionDescriptor{}, 0, err
	}
	return d, ExtensionDescriptorLen, nil
}

func readExtensionDescriptor(b []byte) ExtensionDescriptor {
	return ExtensionDescriptor{
		Kind:          binary.LittleEndian.Uint16(b[0:]),
		Flags:         ExtensionFlags(binary.LittleEndian.Uint16(b[2:])),
		ProfileID:     ProfileID(binary.LittleEndian.Uint16(b[4:])),
		PayloadOffset: binary.LittleEndian.Uint32(b[8:]),
		PayloadLength: binary.LittleEndian.Uint32(b[12:]),
	}
}

// ExtensionRegion is a validated pair of extension descriptor and payload
// regions, aliasing the body.
type ExtensionRegion struct {
	desc    []byte
	payload []byte
}

// ParseExtensionRegion validates the extension regions (D§4.6): whole
// 16-byte descriptors, each valid and not CRITICAL (CodeUnsupportedCapability),
// payloads inside the payload region in ascending, non-overlapping order.
// Gaps between payloads are allowed.
func ParseExtensionRegion(desc, payload []byte) (ExtensionRegion, error) {
	return parseExtensionRegion(0, desc, payload)
}

func parseExtensionRegion(t MessageType, desc, payload []byte) (ExtensionRegion, error) {
	if len(desc)%ExtensionDescriptorLen != 0 {
		return ExtensionRegion{}, errInvalid(t, "extension_descriptor_bytes", "%d is not a multiple of %d",
			len(desc), ExtensionDescriptorLen)
	}
	var end uint64
	for off := 0; off < len(desc); off += ExtensionDescriptorLen {
		d, _, err := parseExtensionDescriptor(t, desc[off:])
		if err != nil {
			return ExtensionRegion{}, err
		}
		if d.Flags&ExtensionCritical != 0 {
			return ExtensionRegion{}, errCode(t, CodeUnsupportedCapability, "extension.extension_flags",
				"critical extension kind %d is not supported", d.Kind)
		}
		if uint64(d.PayloadOffset) < end {
			return ExtensionRegion{}, errInvalid(t, "extension.payload_offset",
				"extension %d starts at %d, before the previous one ends (%d)", off/ExtensionDescriptorLen, d.PayloadOffset, end)
		}
		end = uint64(d.PayloadOffset) + uint64(d.PayloadLength)
		if end > uint64(len(payload)) {
			return ExtensionRegion{}, errInvalid(t, "extension.payload_length",
				"extension %d ends at %d, the payload region is %d bytes", off/ExtensionDescriptorLen, end, len(payload))
		}
	}
	return ExtensionRegion{desc: desc, payload: payload}, nil
}

// Len returns the number of extensions.
func (r ExtensionRegion) Len() int { return len(r.desc) / ExtensionDescriptorLen }

// Descriptor returns descriptor i (0 ≤ i < Len()).
func (r ExtensionRegion) Descriptor(i int) ExtensionDescriptor {
	return readExtensionDescriptor(r.desc[i*ExtensionDescriptorLen:])
}

// Payload returns the payload of extension i, aliasing the body.
func (r ExtensionRegion) Payload(i int) []byte {
	d := r.Descriptor(i)
	end := d.PayloadOffset + d.PayloadLength
	return r.payload[d.PayloadOffset:end:end]
}
