package carrier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// streamConn is a TCP, TLS-over-TCP or Unix-socket connection.
type streamConn struct {
	net.Conn
	tls  *tls.Conn // nil unless kind is TLS
	kind Kind
}

func (c *streamConn) Kind() Kind { return c.kind }

func (c *streamConn) Handshake(ctx context.Context) error {
	if c.tls == nil {
		return nil
	}
	if err := c.tls.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("carrier: tls handshake with %v: %w", c.RemoteAddr(), err)
	}
	return nil
}

func (c *streamConn) TLSState() *tls.ConnectionState {
	if c.tls == nil {
		return nil
	}
	st := c.tls.ConnectionState()
	return &st
}

func dialStream(ctx context.Context, e Endpoint, tlsCfg *tls.Config) (Conn, error) {
	network := "tcp"
	if e.Kind == Unix {
		network = "unix"
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, e.Address)
	if err != nil {
		return nil, fmt.Errorf("carrier: dial %v: %w", e, err)
	}
	return wrapStream(nc, tlsCfg, false), nil
}

// wrapStream turns an accepted or dialled socket into a Conn. Go enables
// TCP_NODELAY by default; it is set again explicitly because the reference
// runtime's missing NODELAY causes 40 ms stalls (nnrp/INTEROP.md defect 3).
func wrapStream(nc net.Conn, tlsCfg *tls.Config, server bool) *streamConn {
	kind := TCP
	if _, ok := nc.(*net.UnixConn); ok {
		kind = Unix
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &streamConn{Conn: nc, kind: kind}
	if tlsCfg != nil {
		c.kind = TLS
		if server {
			c.tls = tls.Server(nc, tlsCfg)
		} else {
			c.tls = tls.Client(nc, tlsCfg)
		}
		c.Conn = c.tls
	}
	return c
}

type streamListener struct {
	l    net.Listener
	tls  *tls.Config
	kind Kind
}

func listenStream(network, address string, tlsCfg *tls.Config) (Listener, error) {
	kind := TCP
	if network == "unix" {
		kind = Unix
		if err := removeStaleSocket(address); err != nil {
			return nil, err
		}
	} else if tlsCfg != nil {
		kind = TLS
	}
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("carrier: listen %s %s: %w", kind, address, err)
	}
	return &streamListener{l: l, tls: tlsCfg, kind: kind}, nil
}

// removeStaleSocket deletes a socket file left behind by a previous process
// (C§8.3), but refuses to delete anything that is not a socket or that a
// live server still answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("carrier: unix socket %s: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("carrier: %s exists and is not a socket; refusing to replace it", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		_ = c.Close()
		return fmt.Errorf("carrier: %s is in use by a running server", path)
	} else if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("carrier: probing %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("carrier: removing stale socket %s: %w", path, err)
	}
	return nil
}

// deadliner is implemented by *net.TCPListener and *net.UnixListener.
type deadliner interface{ SetDeadline(t time.Time) error }

// Accept waits for a connection. Cancelling ctx makes it return
// context.Cause(ctx); the listener stays open.
func (l *streamListener) Accept(ctx context.Context) (Conn, error) {
	if dl, ok := l.l.(deadliner); ok && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = dl.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() {
				_ = dl.SetDeadline(time.Time{})
			}
		}()
	}
	nc, err := l.l.Accept()
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	return wrapStream(nc, l.tls, true), nil
}

// Close stops the listener; a Unix listener also removes its socket file.
func (l *streamListener) Close() error { return l.l.Close() }

func (l *streamListener) Addr() net.Addr { return l.l.Addr() }
func (l *streamListener) Kind() Kind     { return l.kind }
