package wire

import (
	"fmt"
	"io"
)

// Message is a fixed metadata block of one message type.
type Message interface {
	// Type is the message type the metadata belongs to.
	Type() MessageType
	// Len is the exact encoded length of the metadata.
	Len() int
	// Append validates the metadata and appends its encoding to b. On error
	// b is returned unchanged.
	Append(b []byte) ([]byte, error)
	// ExpectedBodyLen is the body length the metadata implies (a "tail
	// field" such as diagnostic_bytes, or 0 for messages without a body).
	// ok is false when the body length is not determined by the metadata.
	ExpectedBodyLen() (n uint64, ok bool)
}

// Packet is one complete packet. Meta and Body alias the buffer the packet
// was parsed from and are valid only as long as that buffer is.
type Packet struct {
	Header Header
	Meta   []byte
	Body   []byte
}

// ParsePacket frames the packet at the start of b: it parses and validates
// the header, checks the announced length against maxPacket (0 means
// DefaultMaxPacket) and splits metadata and body. It returns the packet
// length as the number of bytes consumed. Metadata and body contents are not
// examined; see Decode. All failures are *HeaderError.
func ParsePacket(b []byte, maxPacket uint64) (Packet, int, error) {
	h, _, err := ParseHeader(b)
	if err != nil {
		return Packet{}, 0, err
	}
	if maxPacket == 0 {
		maxPacket = DefaultMaxPacket
	}
	n := h.PacketLen()
	if n > maxPacket {
		return Packet{}, 0, &HeaderError{Code: CodeLimitExceeded, Field: "packet_len",
			Reason: fmt.Sprintf("%d bytes exceeds the limit of %d", n, maxPacket)}
	}
	if uint64(len(b)) < n {
		return Packet{}, 0, &HeaderError{Code: CodeMalformedHeader, Field: "packet_len",
			Reason: fmt.Sprintf("need %d bytes, have %d", n, len(b)), err: io.ErrUnexpectedEOF}
	}
	metaEnd := HeaderLen + int(h.MetaLen)
	end := int(n)
	return Packet{Header: h, Meta: b[HeaderLen:metaEnd:metaEnd], Body: b[metaEnd:end:end]}, end, nil
}

// checkShape verifies that p carries the fixed metadata length of its type
// and, when the type has no metadata, no body unless the type allows one.
func (p *Packet) checkShape(t MessageType) error {
	if p.Header.Type != t {
		return errCode(t, CodeInvalidState, "message_type", "packet is %s", p.Header.Type)
	}
	if want := t.MetaLen(); len(p.Meta) != want {
		return errInvalid(t, "meta_len", "got %d, want %d", len(p.Meta), want)
	}
	if t.HeaderOnly() && len(p.Body) != 0 {
		return errInvalid(t, "body_len", "header-only message has a %d-byte body", len(p.Body))
	}
	return nil
}

// CheckHeaderOnly verifies that p is a header-only message (FRAME_CANCEL,
// RESULT_DROP, PING, PONG) with neither metadata nor body (C§2.2).
func (p *Packet) CheckHeaderOnly() error {
	if !p.Header.Type.HeaderOnly() {
		return errCode(p.Header.Type, CodeInvalidState, "message_type", "%s is not header-only", p.Header.Type)
	}
	return p.checkShape(p.Header.Type)
}

// Decode parses p's metadata with parse and checks that the packet's shape
// matches: the message type, the exact metadata length and the body length
// the metadata implies. M is inferred from parse, e.g.
//
//	hello, err := wire.Decode(&p, wire.ParseClientHello)
//
// It is the convenience for control messages and may allocate the decoded
// value; the data-plane hot path uses SubmitView and ResultView, which do
// not allocate.
func Decode[M any, PM interface {
	*M
	Message
}](p *Packet, parse func([]byte) (M, int, error)) (M, error) {
	var m M
	t := PM(&m).Type()
	if err := p.checkShape(t); err != nil {
		return m, err
	}
	m, _, err := parse(p.Meta)
	if err != nil {
		return m, err
	}
	if want, ok := PM(&m).ExpectedBodyLen(); ok && want != uint64(len(p.Body)) {
		return m, errInvalid(t, "body_len", "got %d, metadata implies %d", len(p.Body), want)
	}
	return m, nil
}

// AppendPacket appends a complete packet: h with Type, MetaLen and BodyLen
// set from m and body, then m's metadata, then the body parts in order. m may
// be nil for a type without metadata (CLOSE, PING, PONG, FRAME_CANCEL,
// RESULT_DROP). On error b is returned unchanged.
func AppendPacket(b []byte, h Header, m Message, body ...[]byte) ([]byte, error) {
	var bodyLen uint64
	for _, part := range body {
		bodyLen += uint64(len(part))
	}
	if m != nil {
		h.Type = m.Type()
		h.MetaLen = uint32(m.Len())
		if want, ok := m.ExpectedBodyLen(); ok && want != bodyLen {
			return b, errInvalid(h.Type, "body_len", "body is %d bytes, metadata implies %d", bodyLen, want)
		}
	} else {
		if h.Type.MetaLen() != 0 {
			return b, errInvalid(h.Type, "metadata", "%s needs metadata", h.Type)
		}
		h.MetaLen = 0
		if h.Type.HeaderOnly() && bodyLen != 0 {
			return b, errInvalid(h.Type, "body_len", "header-only message has a %d-byte body", bodyLen)
		}
	}
	if bodyLen > DefaultMaxPacket {
		return b, errCode(h.Type, CodeLimitExceeded, "body_len", "%d bytes exceeds the packet limit", bodyLen)
	}
	h.BodyLen = uint32(bodyLen)
	start := len(b)
	b, err := h.Append(b)
	if err != nil {
		return b, err
	}
	if m != nil {
		if b, err = m.Append(b); err != nil {
			return b[:start], err
		}
	}
	for _, part := range body {
		b = append(b, part...)
	}
	return b, nil
}
