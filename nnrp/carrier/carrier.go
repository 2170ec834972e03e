// Package carrier provides the byte streams NNRP/1 runs on (C§8): TCP, TLS
// over TCP, QUIC (one client-opened bidirectional stream per connection) and
// Unix-domain sockets. Every carrier delivers the same thing, an ordered
// reliable byte stream of packets; framing is the caller's business.
package carrier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Kind names a carrier.
type Kind uint8

// Carriers.
const (
	TCP Kind = iota + 1
	TLS
	QUIC
	Unix
)

func (k Kind) String() string {
	switch k {
	case TCP:
		return "tcp"
	case TLS:
		return "tls"
	case QUIC:
		return "quic"
	case Unix:
		return "unix"
	}
	return fmt.Sprintf("carrier(%d)", uint8(k))
}

// ParseKind parses a carrier name as printed by Kind.String.
func ParseKind(s string) (Kind, error) {
	for _, k := range []Kind{TCP, TLS, QUIC, Unix} {
		if strings.EqualFold(s, k.String()) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("carrier: unknown carrier %q (want tcp, tls, quic or unix)", s)
}

// Conn is one carrier connection: an ordered, reliable, full-duplex byte
// stream. Read and Write may be called concurrently from one reader and one
// writer goroutine.
type Conn interface {
	// Handshake completes the carrier's own handshake (TLS; for QUIC also
	// accepting the client's stream). It is a no-op for TCP and Unix sockets
	// and is called implicitly by the first Read or Write. Servers call it
	// explicitly with a deadline so a silent client cannot hold a goroutine.
	Handshake(ctx context.Context) error
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// Close ends the connection. For QUIC it finishes the send stream first
	// and gives the peer a moment to read what was sent.
	Close() error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
	Kind() Kind
	// TLSState is the negotiated TLS state for TLS and QUIC carriers after
	// the handshake; nil otherwise.
	TLSState() *tls.ConnectionState
}

// Listener accepts carrier connections.
type Listener interface {
	// Accept waits for the next connection. The returned Conn has not
	// completed its handshake yet (see Conn.Handshake).
	Accept(ctx context.Context) (Conn, error)
	Close() error
	Addr() net.Addr
	Kind() Kind
}

// ErrClosed is returned by Accept after the listener was closed.
var ErrClosed = net.ErrClosed

// Endpoint is a parsed dial target.
type Endpoint struct {
	Kind Kind
	// Address is host:port for TCP, TLS and QUIC, a filesystem path for Unix.
	Address string
	// ServerName is the TLS server name (host part of Address by default).
	ServerName string
}

// ParseEndpoint parses a dial target. Accepted forms:
//
//	tcp://host:port   tls://host:port   quic://host:port   unix:///path
//	nnrp://host:port  (carrier chosen by def, default TCP)
//	nnrps://host:port (authenticated encryption: def must be TLS or QUIC; default QUIC)
func ParseEndpoint(s string, def Kind) (Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("carrier: endpoint %q: %w", s, err)
	}
	var e Endpoint
	switch strings.ToLower(u.Scheme) {
	case "tcp":
		e.Kind = TCP
	case "tls":
		e.Kind = TLS
	case "quic":
		e.Kind = QUIC
	case "unix":
		e.Kind = Unix
	case "nnrp":
		e.Kind = def
		if e.Kind == 0 {
			e.Kind = TCP
		}
	case "nnrps":
		e.Kind = def
		if e.Kind == 0 {
			e.Kind = QUIC
		}
		if e.Kind != TLS && e.Kind != QUIC {
			return Endpoint{}, fmt.Errorf("carrier: endpoint %q: nnrps:// needs an encrypted carrier (tls or quic), not %s", s, e.Kind)
		}
	default:
		return Endpoint{}, fmt.Errorf("carrier: endpoint %q: unknown scheme %q (want tcp, tls, quic, unix, nnrp or nnrps)", s, u.Scheme)
	}
	if e.Kind == Unix {
		e.Address = u.Path
		if e.Address == "" {
			e.Address = u.Opaque
		}
		if e.Address == "" {
			return Endpoint{}, fmt.Errorf("carrier: endpoint %q: unix endpoint needs a path (unix:///run/nnrp.sock)", s)
		}
		return e, nil
	}
	if u.Host == "" {
		return Endpoint{}, fmt.Errorf("carrier: endpoint %q: missing host:port", s)
	}
	host, _, err := net.SplitHostPort(u.Host)
	if err != nil {
		return Endpoint{}, fmt.Errorf("carrier: endpoint %q: %w", s, err)
	}
	e.Address = u.Host
	e.ServerName = host
	return e, nil
}

func (e Endpoint) String() string {
	if e.Kind == Unix {
		return "unix://" + e.Address
	}
	return e.Kind.String() + "://" + e.Address
}

// DialOptions configure Dial.
type DialOptions struct {
	// TLS is the client TLS configuration for TLS and QUIC. Its RootCAs must
	// trust the server. ServerName defaults to the endpoint's host. Leave
	// NextProtos empty to talk to the official runtime, which rejects
	// clients offering ALPN (nnrp/INTEROP.md).
	TLS *tls.Config
	// QUIC tunes the QUIC transport; nil uses this package's defaults.
	QUIC *QUICOptions
}

// Dial connects to e. The returned Conn has completed its handshake.
func Dial(ctx context.Context, e Endpoint, opts DialOptions) (Conn, error) {
	var (
		c   Conn
		err error
	)
	switch e.Kind {
	case TCP, Unix:
		c, err = dialStream(ctx, e, nil)
	case TLS:
		c, err = dialStream(ctx, e, clientTLS(opts.TLS, e))
	case QUIC:
		c, err = dialQUIC(ctx, e, clientTLS(opts.TLS, e), opts.QUIC)
	default:
		return nil, fmt.Errorf("carrier: cannot dial %v", e)
	}
	if err != nil {
		return nil, err
	}
	if err := c.Handshake(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func clientTLS(cfg *tls.Config, e Endpoint) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = e.ServerName
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// Listen opens a listener of the given kind. For TLS and QUIC, tlsCfg must
// carry the server certificate; see ServerTLSConfig.
func Listen(kind Kind, address string, tlsCfg *tls.Config, quicOpts *QUICOptions) (Listener, error) {
	switch kind {
	case TCP:
		return listenStream("tcp", address, nil)
	case TLS:
		if tlsCfg == nil {
			return nil, errors.New("carrier: a TLS listener needs a certificate")
		}
		return listenStream("tcp", address, tlsCfg)
	case Unix:
		return listenStream("unix", address, nil)
	case QUIC:
		if tlsCfg == nil {
			return nil, errors.New("carrier: a QUIC listener needs a certificate")
		}
		return listenQUIC(address, tlsCfg, quicOpts)
	}
	return nil, fmt.Errorf("carrier: cannot listen on %v", kind)
}
