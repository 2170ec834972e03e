package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// pipeConn is an in-memory carrier connection.
type pipeConn struct{ net.Conn }

func (pipeConn) Handshake(context.Context) error { return nil }
func (pipeConn) Kind() carrier.Kind              { return carrier.Unix }
func (pipeConn) TLSState() *tls.ConnectionState  { return nil }

// pipeListener hands out the server ends of in-memory connections.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) dial() net.Conn {
	a, b := net.Pipe()
	select {
	case l.conns <- b:
	case <-l.closed:
		_ = b.Close()
	}
	return a
}

func (l *pipeListener) Accept(ctx context.Context) (carrier.Conn, error) {
	select {
	case c := <-l.conns:
		return pipeConn{c}, nil
	case <-l.closed:
		return nil, carrier.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *pipeListener) Close() error       { l.once.Do(func() { close(l.closed) }); return nil }
func (l *pipeListener) Addr() net.Addr     { return &net.UnixAddr{Name: "pipe", Net: "unix"} }
func (l *pipeListener) Kind() carrier.Kind { return carrier.Unix }

// FuzzConnection feeds arbitrary bytes to an established server connection
// (after a valid hello and session open). Whatever arrives, the server must
// not panic, must answer or close, and must give every receive buffer back.
func FuzzConnection(f *testing.F) {
	hello := client.DefaultHello()
	helloPkt, _ := wire.AppendPacket(nil, wire.Header{}, &hello)
	open := wire.SessionOpen{ProfileID: wire.ProfileTensor, MaxInFlightOperations: 4}
	openPkt, _ := wire.AppendPacket(nil, wire.Header{}, &open)
	fr, _ := client.TensorFrame(client.Image{Channels: 1, Height: 4, Width: 4, Data: make([]float32, 16)}, 2, 2, 1)
	sb := wire.SubmitBuilder{Header: wire.Header{SessionID: 1, FrameID: 1}, Meta: fr.Meta, Tiles: fr.Tiles, Sections: fr.Sections}
	sb.Meta.OperationID = 9
	submit, _ := sb.Append(nil)
	cancel := wire.Cancel{OperationID: 9, SourceRole: wire.RoleClient}
	cancelPkt, _ := wire.AppendPacket(nil, wire.Header{SessionID: 1, FrameID: 1}, &cancel)
	closeMsg := wire.SessionClose{}
	closePkt, _ := wire.AppendPacket(nil, wire.Header{SessionID: 1}, &closeMsg)
	f.Add(submit)
	f.Add(append(append([]byte(nil), submit...), cancelPkt...))
	f.Add(append(append([]byte(nil), submit...), closePkt...))
	f.Add(cancelPkt)
	f.Add(helloPkt)
	f.Add([]byte("NNRP"))

	srv, err := server.New(server.Profile{HandshakeTimeout: time.Second, DeadlineGrace: time.Millisecond}, server.Options{})
	if err != nil {
		f.Fatal(err)
	}
	l := newPipeListener()
	go func() { _ = srv.Serve(l) }()
	go func() {
		for {
			s, err := srv.AcceptSession(context.Background())
			if err != nil {
				return
			}
			go func() {
				for {
					sub, err := s.ReceiveSubmit(context.Background())
					if err != nil {
						return
					}
					echo(context.Background(), s, sub)
				}
			}()
		}
	}()
	f.Cleanup(func() { _ = srv.Close() })

	f.Fuzz(func(t *testing.T, data []byte) {
		c := l.dial()
		defer c.Close()
		go func() { _, _ = io.Copy(io.Discard, c) }()
		_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(helloPkt); err != nil {
			return
		}
		if _, err := c.Write(openPkt); err != nil {
			return
		}
		_, _ = c.Write(data)
	})
}
