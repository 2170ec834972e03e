package serve_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/anime4kref"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo/repotest"
)

// srTolerance: ONNX Runtime (float32) against the float64 reference (research/anime4k.md §5.3
// measured 1.8e-7 on the astronaut).
const srTolerance = 1e-6

func refImage(img client.Image) anime4kref.Image {
	r := anime4kref.NewImage(img.Channels, img.Height, img.Width)
	for i, v := range img.Data {
		r.Pix[i] = float64(v)
	}
	return r
}

func refNet(t testing.TB) *anime4kref.Net {
	t.Helper()
	net, err := anime4kref.Parse(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestServedSRMatchesReference: the SR model served through tiles with halo equals the reference
// of the whole frame under the product's border policy (anime4kref.UpscaleFixedHalo).
func TestServedSRMatchesReference(t *testing.T) {
	orttest.Init(t)
	net := refNet(t)
	dir := repotest.Dir(t, repotest.Only(repotest.Shipped(t), repo.ShippedSR, repo.ShippedBilinear))
	h := newHarness(t, dir, harnessOptions{defaultModel: repo.ShippedSR})
	c := h.dial(t)
	for _, g := range []struct {
		model      string
		w, h, tile int
		subset     []uint16 // tile ids to send, in this order (nil: all, dense)
	}{
		{repo.ShippedSR, 200, 136, 64, nil},                       // 4×3 tiles, partial border tiles
		{repo.ShippedSR, 256, 256, 128, nil},                      // exact grid, larger tiles
		{repo.ShippedSR, 130, 70, 64, []uint16{5, 0, 3, 4, 1, 2}}, // all tiles, shuffled (RAW_U16)
		{repo.ShippedBilinear, 200, 136, 64, nil},                 // the degraded twin
	} {
		t.Run(fmt.Sprintf("%s/%dx%d/%d", g.model, g.w, g.h, g.tile), func(t *testing.T) {
			s := h.open(t, c, client.SessionOptions{Model: g.model})
			img := testImage(3, g.h, g.w, float64(g.w))
			f, err := client.TensorFrame(img, g.tile, g.tile, 1)
			if err != nil {
				t.Fatal(err)
			}
			if g.subset != nil {
				sec := f.Sections[0]
				tiles := make([][]byte, len(g.subset))
				for k, id := range g.subset {
					tiles[k] = sec.Tiles[id]
				}
				sec.Tiles = tiles
				f.Sections[0] = sec
				f.Tiles = wire.TileList(wire.TileIndexRawU16, g.subset)
			}
			submit(t, s, f)
			a := next(t, s)
			if a.drop != 0 {
				t.Fatalf("dropped: %+v", a)
			}
			if g.subset != nil && !slices.Equal(a.tiles, g.subset) {
				t.Fatalf("result tiles %v, want %v", a.tiles, g.subset)
			}
			cols := (g.w + g.tile - 1) / g.tile
			out, err := assemble(a, 3, 2*g.h, 2*g.w, 2*g.tile, 2*g.tile, cols)
			if err != nil {
				t.Fatal(err)
			}
			var ref anime4kref.Image
			if g.model == repo.ShippedSR {
				ref, err = net.UpscaleFixedHalo(refImage(img))
				if err != nil {
					t.Fatal(err)
				}
			} else {
				ref = anime4kref.BilinearValid(anime4kref.PadEdge(refImage(img), anime4kref.Halo))
			}
			d, at := maxDiff(out, ref.Pix)
			if d > srTolerance {
				t.Fatalf("max |served − reference| = %g at %d (tolerance %g)", d, at, srTolerance)
			}
			t.Logf("max |served − reference| = %.3g", d)
		})
	}
}

// TestHotSwapUnderLoad swaps versions while several sessions keep frames in flight through the
// real server and client: every frame gets exactly one answer, each result is exactly one
// version's output, the old version drains and closes, and a broken version changes nothing.
func TestHotSwapUnderLoad(t *testing.T) {
	orttest.Init(t)
	net := refNet(t)
	shipped := repotest.Shipped(t)
	cfg := strings.Replace(string(shipped[repo.ShippedBilinear+"/config.yaml"]), "batch_sizes: [1, 4]", "batch_sizes: [1]", 1)
	dir := repotest.Dir(t, map[string][]byte{"sr/config.yaml": []byte(cfg), "sr/1/model.onnx": shipped[repo.ShippedBilinear+"/1/model.onnx"]})
	h := newHarness(t, dir, harnessOptions{defaultModel: "sr"})

	img := testImage(3, 128, 128, 0.7)
	frame, err := client.TensorFrame(img, 64, 64, 1)
	if err != nil {
		t.Fatal(err)
	}
	refs := []anime4kref.Image{anime4kref.BilinearValid(anime4kref.PadEdge(refImage(img), anime4kref.Halo))}
	sr, err := net.UpscaleFixedHalo(refImage(img))
	if err != nil {
		t.Fatal(err)
	}
	refs = append(refs, sr) // version 1 = bilinear, version 2 = SR

	const sessions, window = 3, 4
	var (
		stop     atomic.Bool
		answered atomic.Int64
		byRef    [2]atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
	)
	var wg sync.WaitGroup
	c := h.dial(t)
	for range sessions {
		s := h.open(t, c, client.SessionOptions{MaxInFlight: window})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := map[uint32]time.Time{}
			for {
				if !stop.Load() && len(sent) < window {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					id, err := s.Submit(ctx, frame)
					cancel()
					if err != nil {
						t.Error(err)
						return
					}
					sent[id] = time.Now()
					continue
				}
				if len(sent) == 0 {
					return
				}
				a, err := nextAnswer(s)
				if err != nil {
					t.Error(err)
					return
				}
				at, ok := sent[a.frame]
				if !ok {
					t.Errorf("answer for frame %d, which is not in flight (answered twice?)", a.frame)
					return
				}
				delete(sent, a.frame)
				mu.Lock()
				lat = append(lat, time.Since(at))
				mu.Unlock()
				answered.Add(1)
				if a.drop != 0 {
					t.Errorf("frame %d dropped during hot swap: %d %s", a.frame, a.drop, a.diag)
					continue
				}
				out, err := assemble(a, 3, 256, 256, 128, 128, 2)
				if err != nil {
					t.Error(err)
					continue
				}
				matched := -1
				for k, ref := range refs {
					if d, _ := maxDiff(out, ref.Pix); d <= srTolerance {
						matched = k
					}
				}
				if matched < 0 {
					d0, _ := maxDiff(out, refs[0].Pix)
					d1, _ := maxDiff(out, refs[1].Pix)
					t.Errorf("frame %d matches no version (max diff %g to v1, %g to v2)", a.frame, d0, d1)
					continue
				}
				byRef[matched].Add(1)
			}
		}()
	}
	waitAnswers := func(n int64) {
		deadline := time.Now().Add(30 * time.Second)
		for answered.Load() < n && time.Now().Before(deadline) && !t.Failed() {
			time.Sleep(5 * time.Millisecond)
		}
	}
	install := func(v int, data []byte) {
		tmp := filepath.Join(dir, "sr", fmt.Sprintf(".v%d", v))
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "model.onnx"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "sr", fmt.Sprint(v))); err != nil {
			t.Fatal(err)
		}
	}
	status := func() repo.ModelStatus {
		all, _ := h.mgr.Status()
		return all[0]
	}
	waitFor := func(what string, cond func(repo.ModelStatus) bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !cond(status()) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, status())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	waitAnswers(30)
	install(2, shipped[repo.ShippedSR+"/1/model.onnx"])
	swapStart := answered.Load()
	waitFor("version 2 serving", func(s repo.ModelStatus) bool { return s.Serving != nil && s.Serving.Version == 2 })
	waitFor("version 1 drained and closed", func(s repo.ModelStatus) bool { return len(s.Draining) == 0 })
	waitAnswers(answered.Load() + 30)
	install(3, []byte("a broken model"))
	waitFor("version 3 reported", func(s repo.ModelStatus) bool { return len(s.Failures) > 0 })
	waitAnswers(answered.Load() + 30)
	stop.Store(true)
	wg.Wait()

	s := status()
	if s.Serving == nil || s.Serving.Version != 2 || s.Failures[0].Version != 3 || !strings.Contains(s.Failures[0].Error, "is not an ONNX model") {
		t.Fatalf("after the broken version: %+v", s)
	}
	if byRef[0].Load() == 0 || byRef[1].Load() == 0 {
		t.Fatalf("results: %d from version 1, %d from version 2; the swap happened outside the load", byRef[0].Load(), byRef[1].Load())
	}
	if got := byRef[0].Load() + byRef[1].Load(); got != answered.Load() {
		t.Fatalf("%d answers, %d correct results", answered.Load(), got)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("%d frames (%d on v1, %d on v2; swap began after %d); latency p50 %v p99 %v max %v",
		answered.Load(), byRef[0].Load(), byRef[1].Load(), swapStart, lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
}
