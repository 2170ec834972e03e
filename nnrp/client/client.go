// Package client is the Go NNRP/1 client: it dials any carrier, performs the
// handshake, opens sessions, submits tensor (or opaque) frames and delivers
// results, drops and control events as they arrive. The tests, the bench
// tool and applications embedding nnrp-gpu use it.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/link"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Errors.
var (
	// ErrClosed is returned after the connection ended; Conn.Err says why.
	ErrClosed = errors.New("client: connection closed")
	// ErrRejected wraps a refused SESSION_OPEN.
	ErrRejected = errors.New("client: session rejected")
)

// Options configure Dial.
type Options struct {
	// Carrier chooses the carrier for nnrp:// (default TCP) and nnrps://
	// (default QUIC) endpoints.
	Carrier carrier.Kind
	// TLS configures TLS and QUIC (RootCAs must trust the server). Leave
	// NextProtos empty for the official server, which rejects ALPN.
	TLS *tls.Config
	// QUIC tunes the QUIC carrier.
	QUIC *carrier.QUICOptions
	// Auth is the CLIENT_HELLO auth block (e.g. a server.MintToken token).
	Auth []byte
	// Hello replaces the default CLIENT_HELLO metadata (its auth and
	// extension lengths are set from Auth).
	Hello *wire.ClientHello
	// MaxPacket bounds received packets (default 64 MiB).
	MaxPacket uint64
	// WriteStallTimeout closes the connection when the server stops reading
	// (default 30 s).
	WriteStallTimeout time.Duration
	Logger            *slog.Logger
}

// DefaultHello is the CLIENT_HELLO sent unless Options.Hello is set: version
// 1, tensor and token profiles, every payload kind, raw codec, every dtype
// and both layouts.
func DefaultHello() wire.ClientHello {
	return wire.ClientHello{
		MinVersionMajor: 1, MaxVersionMajor: 1, SupportedWireFormatBitmap: 1,
		SupportedProfileBitmap: 0x3, SupportedPayloadKindBitmap: 0x7F,
		SupportedCodecBitmap: 0x1, SupportedDtypeBitmap: 0xFF, SupportedLayoutBitmap: 0x3,
		MaxLaneCount: 1,
	}
}

// Conn is one client connection. Its methods are safe for concurrent use.
type Conn struct {
	c    carrier.Conn
	w    *link.Writer
	pool bufpool.Pool
	log  *slog.Logger

	hello wire.ClientHello
	ack   wire.ServerHelloAck

	openMu   sync.Mutex       // one SESSION_OPEN at a time: acks come back in order
	control  chan link.Packet // connection-scoped packets for OpenSession
	mu       sync.Mutex       // guards sessions
	sessions map[uint32]*Session

	done      chan struct{}
	closeOnce sync.Once
	err       error
}

// Dial connects to endpoint (tcp://, tls://, quic://, unix://, nnrp://,
// nnrps://), performs the handshake and returns the established connection.
func Dial(ctx context.Context, endpoint string, opts Options) (*Conn, error) {
	e, err := carrier.ParseEndpoint(endpoint, opts.Carrier)
	if err != nil {
		return nil, err
	}
	cc, err := carrier.Dial(ctx, e, carrier.DialOptions{TLS: opts.TLS, QUIC: opts.QUIC})
	if err != nil {
		return nil, err
	}
	return Handshake(ctx, cc, opts)
}

// Handshake runs the NNRP handshake on an established carrier connection.
func Handshake(ctx context.Context, cc carrier.Conn, opts Options) (*Conn, error) {
	stall := opts.WriteStallTimeout
	if stall == 0 {
		stall = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Conn{
		c: cc, w: link.NewWriter(cc, stall), log: log,
		control: make(chan link.Packet, 16), sessions: map[uint32]*Session{}, done: make(chan struct{}),
	}
	c.hello = DefaultHello()
	if opts.Hello != nil {
		c.hello = *opts.Hello
	}
	c.hello.AuthBytes, c.hello.ControlExtensionBytes = uint32(len(opts.Auth)), 0
	go c.readLoop(opts.MaxPacket)
	pkt, err := wire.AppendPacket(nil, wire.Header{}, &c.hello, opts.Auth)
	if err == nil {
		err = c.write(ctx, [][]byte{pkt})
	}
	if err != nil {
		c.fail(err)
		return nil, err
	}
	p, err := c.nextControl(ctx)
	if err != nil {
		c.fail(err)
		return nil, err
	}
	defer p.Buf.Release()
	if p.P.Header.Type != wire.TypeServerHelloAck {
		err = fmt.Errorf("client: handshake: server answered %s", describe(&p.P))
		c.fail(err)
		return nil, err
	}
	ack, err := wire.Decode(&p.P, wire.ParseServerHelloAck)
	if err == nil {
		err = c.hello.CheckAck(&ack)
	}
	if err != nil {
		err = fmt.Errorf("client: handshake: %w", err)
		c.fail(err)
		return nil, err
	}
	c.ack = ack
	return c, nil
}

// ServerHello returns the server's SERVER_HELLO_ACK.
func (c *Conn) ServerHello() wire.ServerHelloAck { return c.ack }

// Carrier returns the carrier connection.
func (c *Conn) Carrier() carrier.Conn { return c.c }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (nil while it is up).
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close closes the connection (sessions end without SESSION_CLOSE).
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return nil
}

func (c *Conn) fail(err error) {
	c.closeOnce.Do(func() {
		c.err = err
		close(c.done)
		c.w.Abort(err)
		_ = c.c.Close()
	})
}

// maxBacklog is the client's outbound queue bound: Submit waits while more
// than this is queued and not yet written.
const maxBacklog = 16 << 20

// send queues segments the client owns and returns without waiting for the
// write, once the queue is below maxBacklog.
func (c *Conn) send(ctx context.Context, segs [][]byte) error {
	if err := c.w.WaitBelow(ctx, maxBacklog); err != nil {
		return err
	}
	return c.w.Enqueue(link.Outbound{Segs: segs})
}

// write queues segments and waits until they are written.
func (c *Conn) write(ctx context.Context, segs [][]byte) error {
	done := make(chan error, 1)
	if err := c.w.Enqueue(link.Outbound{Segs: segs, Done: func(err error) { done <- err }}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-c.done:
		select {
		case err := <-done:
			return err
		default:
			return c.err
		}
	}
}

func (c *Conn) nextControl(ctx context.Context) (link.Packet, error) {
	select {
	case p := <-c.control:
		return p, nil
	case <-ctx.Done():
		return link.Packet{}, context.Cause(ctx)
	case <-c.done:
		return link.Packet{}, c.err
	}
}

// readLoop routes packets: connection-scoped ones and SESSION_OPEN_ACK to
// OpenSession, the rest to their session's event queue.
func (c *Conn) readLoop(maxPacket uint64) {
	r := link.NewReader(c.c, &c.pool, maxPacket)
	for {
		p, err := r.Next()
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrClosed, err))
			return
		}
		h := &p.P.Header
		if h.SessionID == 0 || h.Type == wire.TypeSessionOpenAck || h.Type == wire.TypeServerHelloAck {
			if h.Type == wire.TypeError && h.SessionID == 0 {
				if m, err := wire.Decode(&p.P, wire.ParseErrorMessage); err == nil && m.Fatal == 1 {
					c.fail(fmt.Errorf("%w: server error %s: %s", ErrClosed, m.Code, string(p.P.Body)))
					p.Buf.Release()
					return
				}
			}
			select {
			case c.control <- p:
			case <-c.done:
				p.Buf.Release()
				return
			}
			continue
		}
		c.mu.Lock()
		s := c.sessions[h.SessionID]
		c.mu.Unlock()
		if s == nil {
			c.log.Debug("nnrp client: packet for an unknown session", "session", h.SessionID, "type", h.Type)
			p.Buf.Release()
			continue
		}
		if !s.deliver(p, c.done) {
			return
		}
	}
}

func describe(p *wire.Packet) string {
	if p.Header.Type == wire.TypeError {
		if m, err := wire.Decode(p, wire.ParseErrorMessage); err == nil {
			return fmt.Sprintf("ERROR %s: %s", m.Code, string(p.Body))
		}
	}
	return p.Header.Type.String()
}
