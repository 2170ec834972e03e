// Package link moves NNRP packets over a carrier stream: a Reader that frames
// packets into pooled buffers and a batching Writer that coalesces small
// packets, writes large payloads without copying them and bounds what it
// queues. Server and client connections are built on both.
package link

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// readBufferSize is the bufio size in front of the carrier: small packets
// are parsed out of one read syscall; reads of at least this size bypass it
// and land directly in the packet buffer (research/transport-limits.md §2).
const readBufferSize = 64 << 10

// Packet is one received packet. P aliases Buf.B; both are valid until the
// holder releases Buf.
type Packet struct {
	P   wire.Packet
	Buf *bufpool.Buf
}

// Reader frames packets from a byte stream.
type Reader struct {
	br        *bufio.Reader
	pool      *bufpool.Pool
	maxPacket uint64
	hdr       [wire.HeaderLen]byte
}

// NewReader reads packets of at most maxPacket bytes (0: 64 MiB) from r into
// buffers from pool.
func NewReader(r io.Reader, pool *bufpool.Pool, maxPacket uint64) *Reader {
	if maxPacket == 0 || maxPacket > wire.DefaultMaxPacket {
		maxPacket = wire.DefaultMaxPacket
	}
	return &Reader{br: bufio.NewReaderSize(r, readBufferSize), pool: pool, maxPacket: maxPacket}
}

// Next reads the next packet. The header is validated and the announced
// length checked against the limit before the rest is read (C§1 rule 3).
// Errors: io.EOF at a clean packet boundary; a *wire.HeaderError for a bad
// header (the stream cannot continue); io.ErrUnexpectedEOF or the carrier's
// error otherwise.
func (r *Reader) Next() (Packet, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Packet{}, fmt.Errorf("link: connection ended inside a packet header: %w", err)
		}
		return Packet{}, err
	}
	h, _, err := wire.ParseHeader(r.hdr[:])
	if err != nil {
		return Packet{}, err
	}
	n := h.PacketLen()
	if n > r.maxPacket {
		return Packet{}, &wire.HeaderError{Code: wire.CodeLimitExceeded, Field: "packet_len",
			Reason: fmt.Sprintf("%d bytes exceeds the limit of %d", n, r.maxPacket)}
	}
	buf := r.pool.Get(int(n))
	copy(buf.B, r.hdr[:])
	if _, err := io.ReadFull(r.br, buf.B[wire.HeaderLen:]); err != nil {
		buf.Release()
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Packet{}, fmt.Errorf("link: connection ended inside a %d-byte %s: %w", n, h.Type, err)
	}
	p, _, err := wire.ParsePacket(buf.B, r.maxPacket)
	if err != nil { // cannot happen: the header was validated above
		buf.Release()
		return Packet{}, err
	}
	return Packet{P: p, Buf: buf}, nil
}
