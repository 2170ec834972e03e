package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// HeaderLen is the size of the common header (C§1).
const HeaderLen = 40

// Magic is the first four bytes of every packet: ASCII "NNRP".
const Magic = "NNRP"

const (
	// VersionMajor is the only accepted header version_major.
	VersionMajor = 1
	// WireFormat is the only accepted header wire_format.
	WireFormat = 0
)

// DefaultMaxPacket is the largest complete packet the reference runtime
// sends or accepts by default: 64 MiB (C§1.1).
const DefaultMaxPacket = 64 << 20

// Flags is the header flag word (C§1).
type Flags uint32

// Header flag bits. Any other bit is rejected on send and on receive.
const (
	FlagAckRequired Flags = 0x01
	FlagCanDrop     Flags = 0x02
	FlagStale       Flags = 0x04
	FlagEOS         Flags = 0x08
	FlagRetransmit  Flags = 0x10
	FlagKeyframe    Flags = 0x20

	knownFlags = FlagAckRequired | FlagCanDrop | FlagStale | FlagEOS | FlagRetransmit | FlagKeyframe
)

// Header is the 40-byte common header (C§1).
type Header struct {
	Type      MessageType
	Flags     Flags
	MetaLen   uint32 // exact length of the metadata region
	BodyLen   uint32 // exact length of the body region
	SessionID uint32 // 0 = connection scope
	FrameID   uint32 // frame of the operation, 0 for control messages
	ViewID    uint16
	RouteID   uint16
	TraceID   uint64
}

// Len returns HeaderLen.
func (h *Header) Len() int { return HeaderLen }

// PacketLen returns the length of the whole packet the header announces.
func (h *Header) PacketLen() uint64 {
	return HeaderLen + uint64(h.MetaLen) + uint64(h.BodyLen)
}

func (h *Header) validate() error {
	if !h.Type.Known() {
		return &HeaderError{Code: CodeMalformedHeader, Field: "message_type",
			Reason: fmt.Sprintf("unknown message type 0x%02x", uint8(h.Type))}
	}
	if h.Flags&^knownFlags != 0 {
		return &HeaderError{Code: CodeMalformedHeader, Field: "flags",
			Reason: fmt.Sprintf("unknown flag bits 0x%x", uint32(h.Flags&^knownFlags))}
	}
	return nil
}

// Append validates h and appends its 40 bytes to b.
func (h *Header) Append(b []byte) ([]byte, error) {
	if err := h.validate(); err != nil {
		return b, err
	}
	b = append(b, Magic...)
	b = append(b, VersionMajor, WireFormat, byte(h.Type), HeaderLen)
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Flags))
	b = binary.LittleEndian.AppendUint32(b, h.MetaLen)
	b = binary.LittleEndian.AppendUint32(b, h.BodyLen)
	b = binary.LittleEndian.AppendUint32(b, h.SessionID)
	b = binary.LittleEndian.AppendUint32(b, h.FrameID)
	b = binary.LittleEndian.AppendUint16(b, h.ViewID)
	b = binary.LittleEndian.AppendUint16(b, h.RouteID)
	b = binary.LittleEndian.AppendUint64(b, h.TraceID)
	return b, nil
}

// ParseHeader decodes and validates the common header at the start of b, in
// the reference order (C§1 rule 5): length, magic, version, wire format,
// header length, flags, message type. It returns HeaderLen as the number of
// bytes consumed. All failures are *HeaderError.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < HeaderLen {
		return Header{}, 0, &HeaderError{Code: CodeMalformedHeader, Field: "header",
			Reason: fmt.Sprintf("need %d bytes, have %d", HeaderLen, len(b)), err: io.ErrUnexpectedEOF}
	}
	if string(b[0:4]) != Magic {
		return Header{}, 0, &HeaderError{Code: CodeMalformedHeader, Field: "magic",
			Reason: fmt.Sprintf("got % x, want %q", b[0:4], Magic)}
	}
	if b[4] != VersionMajor {
		return Header{}, 0, &HeaderError{Code: CodeUnsupportedVersion, Field: "version_major",
			Reason: fmt.Sprintf("got %d, want %d", b[4], VersionMajor)}
	}
	if b[5] != WireFormat {
		return Header{}, 0, &HeaderError{Code: CodeUnsupportedVersion, Field: "wire_format",
			Reason: fmt.Sprintf("got %d, want %d", b[5], WireFormat)}
	}
	if b[7] != HeaderLen {
		return Header{}, 0, &HeaderError{Code: CodeMalformedHeader, Field: "header_len",
			Reason: fmt.Sprintf("got %d, want %d", b[7], HeaderLen)}
	}
	h := Header{
		Type:      MessageType(b[6]),
		Flags:     Flags(binary.LittleEndian.Uint32(b[8:])),
		MetaLen:   binary.LittleEndian.Uint32(b[12:]),
		BodyLen:   binary.LittleEndian.Uint32(b[16:]),
		SessionID: binary.LittleEndian.Uint32(b[20:]),
		FrameID:   binary.LittleEndian.Uint32(b[24:]),
		ViewID:    binary.LittleEndian.Uint16(b[28:]),
		RouteID:   binary.LittleEndian.Uint16(b[30:]),
		TraceID:   binary.LittleEndian.Uint64(b[32:]),
	}
	if h.Flags&^knownFlags != 0 {
		return Header{}, 0, &HeaderError{Code: CodeMalformedHeader, Field: "flags",
			Reason: fmt.Sprintf("unknown flag bits 0x%x", uint32(h.Flags&^knownFlags))}
	}
	if !h.Type.Known() {
		return Header{}, 0, &HeaderError{Code: CodeMalformedHeader, Field: "message_type",
			Reason: fmt.Sprintf("unknown message type 0x%02x", b[6])}
	}
	return h, HeaderLen, nil
}
