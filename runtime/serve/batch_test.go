package serve

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/gpu/gputest"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

// batchModel opens a repository holding an echo model with a tensor contract (tiles 8×8, halo 2)
// and returns a reference to it for each of n frames.
func batchModel(t *testing.T, st *gpu.Staging, n int) (*repo.Manager, []*repo.Model) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "models", "e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "backend: echo\ninputs: [{role: 1, name: in, channels: 3}]\noutputs: [{role: 4, name: out, channels: 3}]\ntile_sizes: [8]\nhalo: 2\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	mgr, err := repo.Open(context.Background(), repo.Options{Dir: filepath.Dir(dir), Staging: st, NoWatch: true, Rescan: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var ms []*repo.Model
	for range n {
		m, err := mgr.Acquire("e")
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return mgr, ms
}

// TestBatchAcrossFrames fills one batch with tiles of two frames (as the scheduler will), runs it,
// and checks the outputs, the slot accounting and that output staging lives exactly until the
// last frame holding it is answered.
func TestBatchAcrossFrames(t *testing.T) {
	st := gputest.Staging(t)
	mgr, ms := batchModel(t, st, 2)
	defer func() { _ = mgr.Close(context.Background()) }()
	rng := rand.New(rand.NewPCG(5, 6))
	tf := []*testFrame{newTestFrame(rng, 3, 20, 20, 8, 8, 0), newTestFrame(rng, 3, 16, 24, 8, 8, 0)}
	var frames []*Frame
	for i, f := range tf {
		p := f.plan(rng, 2)
		p.outCh, p.outRole, p.scale = []int{3}, []uint16{4}, 1
		frames = append(frames, newFrame(nil, &server.Submit{}, ms[i], p, nil))
	}
	b, err := NewBatch(ms[0], st, repo.TileSize{W: 8, H: 8}, 5)
	if err != nil {
		t.Fatal(err)
	}
	order := []struct{ f, pos int }{{0, 3}, {1, 0}, {0, 8}, {1, 5}, {0, 0}}
	for _, o := range order {
		if err := b.Add(frames[o.f], o.pos); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Add(frames[0], 1); !errors.Is(err, ErrBatchFull) {
		t.Fatalf("Add to a full batch: %v", err)
	}
	if got := len(b.Frames()); got != 2 {
		t.Fatalf("Frames() = %d", got)
	}
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrBatchState) {
		t.Fatalf("second Run: %v", err)
	}
	if err := b.Add(frames[0], 1); !errors.Is(err, ErrBatchState) {
		t.Fatalf("Add after Run: %v", err)
	}
	for _, o := range order {
		f := frames[o.f]
		got := f.outs[0][o.pos]
		want := f.Plan.in[0][o.pos] // echo: the tile as it came, in bytes
		id := int(f.Plan.ids[o.pos])
		for k := 0; k < len(want); k += 4 {
			c, y, x := k/4/64, k/4/8%8, k/4%8
			fy, fx := (id/f.Plan.cols)*8+y, (id%f.Plan.cols)*8+x
			if fy >= tf[o.f].h || fx >= tf[o.f].w {
				continue // beyond the frame: edge-replicated, not the garbage the tile held
			}
			if math.Float32frombits(uint32(got[k])|uint32(got[k+1])<<8|uint32(got[k+2])<<16|uint32(got[k+3])<<24) != tf[o.f].at(c, fy, fx) {
				t.Fatalf("frame %d tile %d value %d differs", o.f, id, k/4)
			}
		}
	}
	b.Release()
	if u := st.Output.Usage(); u.Buffers != 1 {
		t.Fatalf("output staging released while frames hold it: %+v", u)
	}
	if u := st.Input.Usage(); u.Buffers != 0 {
		t.Fatalf("input staging not released by Release: %+v", u)
	}
	frames[0].finish("test")
	if u := st.Output.Usage(); u.Buffers != 1 {
		t.Fatalf("output staging released while frame 1 holds it: %+v", u)
	}
	if err := b.Add(frames[0], 1); err == nil {
		t.Fatal("Add of an answered frame succeeded")
	}
	frames[1].finish("test")
	if err := st.Check(); err != nil {
		t.Fatalf("staging after both frames were answered: %v", err)
	}
}

func TestBatchRejectsMixedFrames(t *testing.T) {
	st := gputest.Staging(t)
	mgr, ms := batchModel(t, st, 1)
	defer func() { _ = mgr.Close(context.Background()) }()
	rng := rand.New(rand.NewPCG(7, 8))
	p := newTestFrame(rng, 3, 8, 8, 8, 8, 0).plan(rng, 2)
	p.outCh, p.outRole, p.scale = []int{3}, []uint16{4}, 1
	f := newFrame(nil, &server.Submit{}, ms[0], p, nil)
	b, err := NewBatch(ms[0], st, repo.TileSize{W: 16, H: 16}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(f, 0); !errors.Is(err, ErrBatchMix) {
		t.Fatalf("Add of an 8×8 frame to a 16×16 batch: %v", err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrBatchState) {
		t.Fatalf("Run of an empty batch: %v", err)
	}
	b.Release()
	f.finish("test")
	if _, err := NewBatch(ms[0], st, repo.TileSize{W: 8, H: 8}, 0); !errors.Is(err, ErrBatchState) {
		t.Fatalf("capacity 0: %v", err)
	}
}
