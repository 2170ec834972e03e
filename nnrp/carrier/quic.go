package carrier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// QUICOptions tune the QUIC carrier. Zero fields take the defaults below.
type QUICOptions struct {
	// KeepAlive is the keep-alive period (default 10 s). The reference
	// runtime has a 30 s idle timeout and no keep-alive (C§8.2), so the Go
	// side keeps idle sessions alive.
	KeepAlive time.Duration
	// MaxIdleTimeout closes a silent connection (default 30 s).
	MaxIdleTimeout time.Duration
	// HandshakeTimeout bounds the QUIC/TLS handshake (default 10 s).
	HandshakeTimeout time.Duration
	// StreamWindow and ConnWindow are the maximum flow-control windows
	// (default 16 MiB and 24 MiB): large enough for several 1 MiB frames in
	// flight; quic-go auto-tunes up to them (research/transport-limits.md §6).
	StreamWindow uint64
	ConnWindow   uint64
}

func (o *QUICOptions) config(server bool) *quic.Config {
	var v QUICOptions
	if o != nil {
		v = *o
	}
	if v.KeepAlive == 0 {
		v.KeepAlive = 10 * time.Second
	}
	if v.MaxIdleTimeout == 0 {
		v.MaxIdleTimeout = 30 * time.Second
	}
	if v.HandshakeTimeout == 0 {
		v.HandshakeTimeout = 10 * time.Second
	}
	if v.StreamWindow == 0 {
		v.StreamWindow = 16 << 20
	}
	if v.ConnWindow == 0 {
		v.ConnWindow = 24 << 20
	}
	c := &quic.Config{
		KeepAlivePeriod:            v.KeepAlive,
		MaxIdleTimeout:             v.MaxIdleTimeout,
		HandshakeIdleTimeout:       v.HandshakeTimeout,
		MaxStreamReceiveWindow:     v.StreamWindow,
		MaxConnectionReceiveWindow: v.ConnWindow,
	}
	if server {
		// Exactly one client-opened bidirectional stream carries everything;
		// no unidirectional streams, no datagrams (C§8.2).
		c.MaxIncomingStreams = 1
		c.MaxIncomingUniStreams = -1
	}
	return c
}

// quicConn is a QUIC connection and its single bidirectional stream.
type quicConn struct {
	conn   *quic.Conn
	server bool

	once      sync.Once
	stream    *quic.Stream
	streamErr error
	ready     chan struct{} // closed when stream or streamErr is set

	readEOF   chan struct{} // closed when Read returned io.EOF
	eofOnce   sync.Once
	closeOnce sync.Once
	onClose   func() // called once after the connection is closed
}

// linger is how long Close waits for the peer to finish reading after our
// FIN before tearing the connection down.
const linger = time.Second

func newQUICConn(c *quic.Conn, server bool) *quicConn {
	return &quicConn{conn: c, server: server, ready: make(chan struct{}), readEOF: make(chan struct{})}
}

func (c *quicConn) Kind() Kind { return QUIC }

// Handshake accepts (server) or opens (client) the connection's stream. The
// QUIC handshake itself completed before the Conn was returned.
func (c *quicConn) Handshake(ctx context.Context) error {
	c.once.Do(func() {
		if c.server {
			c.stream, c.streamErr = c.conn.AcceptStream(ctx)
		} else {
			c.stream, c.streamErr = c.conn.OpenStreamSync(ctx)
		}
		if c.streamErr != nil {
			c.streamErr = fmt.Errorf("carrier: quic stream with %v: %w", c.conn.RemoteAddr(), c.streamErr)
		}
		close(c.ready)
	})
	<-c.ready
	return c.streamErr
}

func (c *quicConn) s() (*quic.Stream, error) {
	if err := c.Handshake(c.conn.Context()); err != nil {
		return nil, err
	}
	return c.stream, nil
}

func (c *quicConn) Read(p []byte) (int, error) {
	s, err := c.s()
	if err != nil {
		return 0, err
	}
	n, err := s.Read(p)
	if errors.Is(err, io.EOF) {
		c.eofOnce.Do(func() { close(c.readEOF) })
	}
	return n, err
}

func (c *quicConn) Write(p []byte) (int, error) {
	s, err := c.s()
	if err != nil {
		return 0, err
	}
	return s.Write(p)
}

// Close finishes the send stream (FIN), waits up to linger for the peer to
// finish (its FIN or the connection ending), then closes the connection.
func (c *quicConn) Close() error {
	c.closeOnce.Do(func() {
		select {
		case <-c.ready:
			if c.stream != nil {
				_ = c.stream.Close()
				t := time.NewTimer(linger)
				select {
				case <-c.readEOF:
				case <-c.conn.Context().Done():
				case <-t.C:
				}
				t.Stop()
			}
		default:
		}
		_ = c.conn.CloseWithError(0, "")
		if c.onClose != nil {
			c.onClose()
		}
	})
	return nil
}

func (c *quicConn) SetReadDeadline(t time.Time) error {
	s, err := c.s()
	if err != nil {
		return err
	}
	return s.SetReadDeadline(t)
}

func (c *quicConn) SetWriteDeadline(t time.Time) error {
	s, err := c.s()
	if err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

func (c *quicConn) LocalAddr() net.Addr  { return c.conn.LocalAddr() }
func (c *quicConn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

func (c *quicConn) TLSState() *tls.ConnectionState {
	st := c.conn.ConnectionState().TLS
	return &st
}

// dialQUIC connects from a UDP socket and quic.Transport of its own (with
// GRO, see withGRO), closed with the connection.
func dialQUIC(ctx context.Context, e Endpoint, tlsCfg *tls.Config, opts *QUICOptions) (Conn, error) {
	ra, err := net.ResolveUDPAddr("udp", e.Address)
	if err != nil {
		return nil, fmt.Errorf("carrier: dial %v: %w", e, err)
	}
	udp, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, fmt.Errorf("carrier: dial %v: %w", e, err)
	}
	tr := &quic.Transport{Conn: withGRO(udp)}
	closeTransport := func() {
		_ = tr.Close()
		_ = udp.Close()
	}
	qc, err := tr.Dial(ctx, ra, tlsCfg, opts.config(false))
	if err != nil {
		closeTransport()
		return nil, fmt.Errorf("carrier: dial %v: %w", e, err)
	}
	c := newQUICConn(qc, false)
	c.onClose = closeTransport
	return c, nil
}

// quicListener owns its UDP socket and quic.Transport. The transport is
// closed when the listener and every connection it accepted are closed, so
// nothing outlives the server (quic-go would otherwise keep the socket alive
// while closed connections drain).
type quicListener struct {
	l  *quic.Listener
	tr *quic.Transport

	mu        sync.Mutex
	refs      int // the listener itself plus every accepted, unclosed connection
	closeOnce sync.Once
}

func listenQUIC(address string, tlsCfg *tls.Config, opts *QUICOptions) (Listener, error) {
	ua, err := net.ResolveUDPAddr("udp", address)
	if err != nil {
		return nil, fmt.Errorf("carrier: listen quic %s: %w", address, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("carrier: listen quic %s: %w", address, err)
	}
	// One socket serves every connection; see withGRO for the receive path.
	tr := &quic.Transport{Conn: withGRO(udp)}
	l, err := tr.Listen(tlsCfg, opts.config(true))
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("carrier: listen quic %s: %w", address, err)
	}
	return &quicListener{l: l, tr: tr, refs: 1}, nil
}

func (l *quicListener) release() {
	l.mu.Lock()
	l.refs--
	last := l.refs == 0
	l.mu.Unlock()
	if last {
		_ = l.tr.Close()
		_ = l.tr.Conn.Close()
	}
}

// Accept returns the next connection whose QUIC handshake succeeded. A
// client failing its handshake never reaches Accept and never affects other
// clients (unlike the reference runtime, nnrp/INTEROP.md defect 2).
func (l *quicListener) Accept(ctx context.Context) (Conn, error) {
	qc, err := l.l.Accept(ctx)
	if err != nil {
		if errors.Is(err, quic.ErrServerClosed) {
			return nil, ErrClosed
		}
		return nil, err
	}
	l.mu.Lock()
	l.refs++
	l.mu.Unlock()
	c := newQUICConn(qc, true)
	c.onClose = l.release
	return c, nil
}

// Close stops accepting. Accepted connections stay open until closed.
func (l *quicListener) Close() error {
	err := l.l.Close()
	l.closeOnce.Do(l.release)
	return err
}

func (l *quicListener) Addr() net.Addr { return l.l.Addr() }
func (l *quicListener) Kind() Kind     { return QUIC }
