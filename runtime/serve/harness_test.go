package serve_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/gpu/gputest"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/serve"
)

// harness is a real server on TCP serving a repository through the service.
type harness struct {
	t     testing.TB
	st    *gpu.Staging
	mgr   *repo.Manager
	svc   *serve.Service
	srv   *server.Server
	ep    string
	wg    sync.WaitGroup
	conns []*client.Conn
}

type harnessOptions struct {
	defaultModel string
	settle       time.Duration
}

func newHarness(t testing.TB, dir string, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, st: gputest.Staging(t)}
	if o.settle == 0 {
		o.settle = 30 * time.Millisecond
	}
	log := slog.New(slog.DiscardHandler)
	var err error
	h.mgr, err = repo.Open(context.Background(), repo.Options{Dir: dir, Staging: h.st, Logger: log, Settle: o.settle, Rescan: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.svc, err = serve.New(serve.Options{Models: h.mgr, DefaultModel: o.defaultModel, Staging: h.st, Logger: log})
	if err != nil {
		_ = h.mgr.Close(context.Background())
		t.Fatal(err)
	}
	h.srv, err = server.New(server.DefaultProfile(), server.Options{OpenSession: h.svc.OpenSession, PatchSession: h.svc.PatchSession, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	l, err := carrier.Listen(carrier.TCP, "127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.ep = "tcp://" + l.Addr().String()
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		_ = h.srv.Serve(l)
	}()
	go func() {
		defer h.wg.Done()
		h.svc.Serve(h.srv)
	}()
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	for _, c := range h.conns {
		_ = c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("server shutdown: %v", err)
	}
	h.wg.Wait()
	if err := h.mgr.Close(ctx); err != nil {
		h.t.Errorf("manager close: %v", err)
	}
	if n, b := h.srv.ReceiveBuffers(); n != 0 {
		h.t.Errorf("%d receive buffers (%d bytes) still held", n, b)
	}
}

func (h *harness) dial(t testing.TB) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, h.ep, client.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h.conns = append(h.conns, c)
	return c
}

func (h *harness) open(t testing.TB, c *client.Conn, o client.SessionOptions) *client.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.OpenSession(ctx, o)
	if err != nil {
		t.Fatalf("open session %+v: %v", o, err)
	}
	return s
}

// answer is a frame's terminal event, decoded.
type answer struct {
	frame uint32
	drop  wire.DropReason
	diag  string
	tiles []uint16
	data  [][]float32 // first section's tiles
	role  uint16
	class wire.ResultClass
}

// next returns the session's next terminal event (skipping others).
func next(t testing.TB, s *client.Session) answer {
	t.Helper()
	a, err := nextAnswer(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func nextAnswer(s *client.Session) (answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			return answer{}, fmt.Errorf("next event: %w", err)
		}
		if !ev.Terminal() {
			ev.Release()
			continue
		}
		a := answer{frame: ev.FrameID}
		if ev.Kind == client.EventDrop {
			a.drop, a.diag = ev.Drop, string(ev.Diagnostic)
			if a.drop == 0 {
				a.drop = 0xFF // header-only RESULT_DROP
			}
			ev.Release()
			return a, nil
		}
		v := ev.Result
		a.class = v.Meta.Class
		a.tiles = v.Tiles().AppendIDs(nil)
		if v.SectionCount() > 0 {
			sec := v.Section(0)
			a.role = sec.Desc.RoleID
			it := sec.Tiles()
			for tile, ok := it.Next(); ok; tile, ok = it.Next() {
				f, err := client.Float32s(tile)
				if err != nil {
					ev.Release()
					return answer{}, err
				}
				a.data = append(a.data, f)
			}
		}
		ev.Release()
		return a, nil
	}
}

func submit(t testing.TB, s *client.Session, f *client.Frame) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := s.Submit(ctx, f)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return id
}

// testImage is a smooth image with detail, values in [0,1].
func testImage(c, h, w int, seed float64) client.Image {
	img := client.Image{Channels: c, Height: h, Width: w, Data: make([]float32, c*h*w)}
	for ch := range c {
		for y := range h {
			for x := range w {
				v := 0.5 + 0.3*math.Sin(float64(x)*0.21+seed+float64(ch))*math.Cos(float64(y)*0.13-seed) +
					0.15*math.Sin(float64(x*y)*0.07+float64(ch)*seed)
				img.Data[(ch*h+y)*w+x] = float32(min(max(v, 0), 1))
			}
		}
	}
	return img
}

// assemble places result tiles (s·th × s·tw each, ids in a grid of cols columns) into a
// C × oh × ow image, cropping what lies beyond it.
func assemble(a answer, c, oh, ow, oth, otw, cols int) ([]float32, error) {
	out := make([]float32, c*oh*ow)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	if len(a.data) != len(a.tiles) {
		return nil, fmt.Errorf("%d tile payloads for %d tile ids", len(a.data), len(a.tiles))
	}
	for k, id := range a.tiles {
		ty, tx := int(id)/cols, int(id)%cols
		d := a.data[k]
		if len(d) != c*oth*otw {
			return nil, fmt.Errorf("tile %d has %d values, want %d", id, len(d), c*oth*otw)
		}
		for ch := range c {
			for y := range oth {
				for x := range otw {
					oy, ox := ty*oth+y, tx*otw+x
					if oy < oh && ox < ow {
						out[(ch*oh+oy)*ow+ox] = d[(ch*oth+y)*otw+x]
					}
				}
			}
		}
	}
	return out, nil
}

func maxDiff(a []float32, b []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		d := math.Abs(float64(a[i]) - b[i])
		if math.IsNaN(d) {
			return math.Inf(1), i
		}
		if d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}

var errRejected = client.ErrRejected

func isRejected(err error) bool { return errors.Is(err, errRejected) }
