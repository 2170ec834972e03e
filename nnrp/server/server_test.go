package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a server with listeners on every carrier and an application
// loop (echo unless handler is set).
type harness struct {
	t       testing.TB
	srv     *server.Server
	dev     *carrier.DevCertificate
	eps     map[carrier.Kind]string
	wg      sync.WaitGroup
	handler func(ctx context.Context, s *server.Session, sub *server.Submit)
	ctx     context.Context
	cancel  context.CancelFunc
}

func newHarness(t testing.TB, p server.Profile, opts server.Options, handler func(context.Context, *server.Session, *server.Submit)) *harness {
	t.Helper()
	srv, err := server.New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := carrier.NewDevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, dev: dev, eps: map[carrier.Kind]string{}, handler: handler}
	if h.handler == nil {
		h.handler = echo
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for _, k := range []carrier.Kind{carrier.TCP, carrier.TLS, carrier.QUIC, carrier.Unix} {
		addr := "127.0.0.1:0"
		if k == carrier.Unix {
			addr = filepath.Join(t.TempDir(), "nnrp.sock")
		}
		l, err := carrier.Listen(k, addr, carrier.ServerTLSConfig(dev.TLS), nil)
		if err != nil {
			t.Fatal(err)
		}
		if k == carrier.Unix {
			h.eps[k] = "unix://" + l.Addr().String()
		} else {
			h.eps[k] = fmt.Sprintf("%s://%s", k, l.Addr())
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			_ = srv.Serve(l)
		}()
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			s, err := srv.AcceptSession(h.ctx)
			if err != nil {
				return
			}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				for {
					sub, err := s.ReceiveSubmit(h.ctx)
					if err != nil {
						return
					}
					h.handler(h.ctx, s, sub)
				}
			}()
		}
	}()
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("shutdown: %v", err)
	}
	h.cancel()
	h.wg.Wait()
}

// echo answers with the frame's own content, without waiting for the
// write (so one session goroutine keeps the window full).
func echo(ctx context.Context, s *server.Session, sub *server.Submit) {
	r, err := server.EchoResult(sub)
	if err == nil {
		err = s.SendResultAsync(ctx, sub, r, func(error) {})
	}
	if err != nil && !errors.Is(err, server.ErrNotInFlight) {
		_ = s.SendResultDrop(ctx, sub, wire.DropCapabilityMismatch, err.Error())
	}
}

func (h *harness) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: h.dev.RootPool(), ServerName: "localhost"}
}

func (h *harness) dial(t *testing.T, k carrier.Kind) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, h.eps[k], client.Options{TLS: h.clientTLS()})
	if err != nil {
		t.Fatalf("dial %v: %v", k, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func open(t *testing.T, c *client.Conn, o client.SessionOptions) *client.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.OpenSession(ctx, o)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	return s
}

func testImage(c, h, w int, seed float32) client.Image {
	img := client.Image{Channels: c, Height: h, Width: w, Data: make([]float32, c*h*w)}
	for i := range img.Data {
		img.Data[i] = seed + float32(i)*0.25
	}
	return img
}

func next(t *testing.T, s *client.Session) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next event: %v", err)
	}
	return ev
}

func TestEchoEveryCarrier(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, nil)
	for _, k := range []carrier.Kind{carrier.TCP, carrier.TLS, carrier.QUIC, carrier.Unix} {
		t.Run(k.String(), func(t *testing.T) {
			c := h.dial(t, k)
			s := open(t, c, client.SessionOptions{MaxInFlight: 8})
			ctx := context.Background()
			const frames = 50
			sent := map[uint32]*client.Frame{}
			for i := 0; i < frames; i++ {
				f, err := client.TensorFrame(testImage(3, 20, 36, float32(i)), 16, 16, 1)
				if err != nil {
					t.Fatal(err)
				}
				f.Meta.LatencyBudgetMS = 5000
				id, err := s.Submit(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				sent[id] = f
				if len(sent) >= 8 || i == frames-1 {
					for len(sent) > 0 {
						ev := next(t, s)
						if ev.Kind != client.EventResult {
							t.Fatalf("event %v (drop %v %s)", ev.Kind, ev.Drop, ev.Diagnostic)
						}
						want := sent[ev.FrameID]
						delete(sent, ev.FrameID)
						sec := ev.Result.Section(0)
						for j, tile := range want.Sections[0].Tiles {
							if !bytes.Equal(sec.Tile(j), tile) {
								t.Fatalf("frame %d tile %d differs", ev.FrameID, j)
							}
						}
						if ev.Result.Meta.Class != wire.ClassComplete || int(ev.Result.Meta.CoveredTileCount) != len(want.Sections[0].Tiles) {
							t.Fatalf("result meta %+v", ev.Result.Meta)
						}
						ev.Release()
					}
				}
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
