package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"math"
)

// Registered control-extension types (C§3.6, preview2). Each payload is 8
// bytes; only nnrp-cs implements them, Rust HEAD neither sends nor parses
// them. ext_type 0 is reserved; 0x0001–0x3FFF are standard, 0x4000–0x7FFF
// experimental, 0x8000–0xBFFF vendor and 0xC000–0xFFFF local/debug.
const (
	ExtTransportPolicy        uint16 = 0x0101 // CLIENT_HELLO
	ExtTransportPolicyAck     uint16 = 0x0102 // SERVER_HELLO_ACK
	ExtLossTolerance          uint16 = 0x0103 // CLIENT_HELLO
	ExtLossToleranceAck       uint16 = 0x0104 // SERVER_HELLO_ACK
	ExtPayloadCapabilities    uint16 = 0x0105 // CLIENT_HELLO
	ExtPayloadCapabilitiesAck uint16 = 0x0106 // SERVER_HELLO_ACK
)

// ExtFlags is a control extension's ext_flags (C§3.6).
type ExtFlags uint16

// Extension flag bits. Any other bit is malformed.
const (
	// ExtCritical asks a receiver that does not know the entry's type to
	// refuse the message (unsupported_capability) instead of skipping it.
	ExtCritical ExtFlags = 0x1

	knownExtFlags ExtFlags = 0x1
)

// controlExtHeaderLen is the size of an entry's ext_type, ext_flags and
// ext_len fields.
const controlExtHeaderLen = 8

// ControlExtension is one entry of a control-extension block.
type ControlExtension struct {
	Type    uint16
	Flags   ExtFlags
	Payload []byte // ext_len bytes without padding; aliases the block
}

// Critical reports whether the entry carries ExtCritical.
func (e ControlExtension) Critical() bool { return e.Flags&ExtCritical != 0 }

// ControlExtensions is a control-extension block (C§3.6): the body of
// SERVER_HELLO_ACK and the tail of a CLIENT_HELLO body. It holds TLV entries
// back to back, each padded with zeros to a multiple of 8 bytes; the
// block's length (control_extension_bytes) includes the padding. Iterating
// allocates nothing; entries alias the block.
//
// Errors carry CodeMalformedBody and message type 0, since the block belongs
// to either handshake message; truncation also wraps io.ErrUnexpectedEOF.
type ControlExtensions []byte

// Next decodes the first entry of c and returns it with the rest of the
// block. Call it only while len(c) > 0.
func (c ControlExtensions) Next() (ControlExtension, ControlExtensions, error) {
	if len(c) < controlExtHeaderLen {
		return ControlExtension{}, nil, errShort(0, "control_extension", controlExtHeaderLen, len(c))
	}
	typ := binary.LittleEndian.Uint16(c[0:])
	flags := ExtFlags(binary.LittleEndian.Uint16(c[2:]))
	n := binary.LittleEndian.Uint32(c[4:])
	if typ == 0 {
		return ControlExtension{}, nil, errInvalid(0, "ext_type", "type 0 is reserved")
	}
	if err := checkMask(0, "ext_flags", flags, knownExtFlags); err != nil {
		return ControlExtension{}, nil, err
	}
	end := controlExtHeaderLen + uint64(n)
	padded := (end + 7) &^ 7
	if padded > uint64(len(c)) {
		return ControlExtension{}, nil, &MessageError{Code: CodeMalformedBody, Field: "ext_len",
			Reason: fmt.Sprintf("entry of %d padded bytes exceeds the %d left in the block", padded, len(c)),
			err:    io.ErrUnexpectedEOF}
	}
	for _, p := range c[end:padded] {
		if p != 0 {
			return ControlExtension{}, nil, errInvalid(0, "padding", "non-zero padding after extension 0x%04x", typ)
		}
	}
	return ControlExtension{Type: typ, Flags: flags, Payload: c[controlExtHeaderLen:end:end]}, c[padded:], nil
}

// All iterates over the entries of c. A malformed entry is yielded once,
// with its error, and ends the iteration.
func (c ControlExtensions) All() iter.Seq2[ControlExtension, error] {
	return func(yield func(ControlExtension, error) bool) {
		for rest := c; len(rest) > 0; {
			e, next, err := rest.Next()
			if err != nil {
				yield(ControlExtension{}, err)
				return
			}
			if !yield(e, nil) {
				return
			}
			rest = next
		}
	}
}

// CheckControlExtensions validates a whole control-extension block: every
// entry well-formed (else CodeMalformedBody), then no CRITICAL entry whose
// type known rejects (else CodeUnsupportedCapability). Unknown non-critical
// entries are allowed; receivers skip them. A nil known knows no type.
func CheckControlExtensions(block []byte, known func(extType uint16) bool) error {
	var unknown error
	for e, err := range ControlExtensions(block).All() {
		if err != nil {
			return err
		}
		if unknown == nil && e.Critical() && (known == nil || !known(e.Type)) {
			unknown = errCode(0, CodeUnsupportedCapability, "ext_type", "unknown critical extension 0x%04x", e.Type)
		}
	}
	return unknown
}

// AppendControlExtension appends one entry (header, payload, zero padding to
// a multiple of 8) to a control-extension block b. On error b is returned
// unchanged.
func AppendControlExtension(b []byte, extType uint16, flags ExtFlags, payload []byte) ([]byte, error) {
	if extType == 0 {
		return b, errInvalid(0, "ext_type", "type 0 is reserved")
	}
	if err := checkMask(0, "ext_flags", flags, knownExtFlags); err != nil {
		return b, err
	}
	if uint64(len(payload)) > math.MaxUint32-controlExtHeaderLen-7 {
		return b, errCode(0, CodeLimitExceeded, "ext_len", "payload of %d bytes is too long", len(payload))
	}
	b = binary.LittleEndian.AppendUint16(b, extType)
	b = binary.LittleEndian.AppendUint16(b, uint16(flags))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	var pad [7]byte
	return append(b, pad[:(8-len(payload)%8)%8]...), nil
}
