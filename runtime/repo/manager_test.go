package repo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/gpu/gputest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo/repotest"
)

// swapRepo is a repository with one model "sr" whose version 1 is the bilinear twin and whose
// config is the SR model's (the two share the I/O contract), plus the two model files.
type swapRepo struct {
	dir, model   string
	sr, bilinear []byte
	config       []byte
}

func newSwapRepo(t testing.TB) *swapRepo {
	t.Helper()
	shipped := repotest.Shipped(t)
	r := &swapRepo{sr: shipped[repo.ShippedSR+"/1/model.onnx"], bilinear: shipped[repo.ShippedBilinear+"/1/model.onnx"]}
	r.config = []byte(strings.Replace(string(shipped[repo.ShippedBilinear+"/config.yaml"]), "batch_sizes: [1, 4]", "batch_sizes: [1]", 1))
	r.dir = repotest.Dir(t, map[string][]byte{"sr/config.yaml": r.config, "sr/1/model.onnx": r.bilinear})
	r.model = filepath.Join(r.dir, "sr")
	return r
}

// install adds a version the atomic way: written under a hidden name, then renamed.
func (r *swapRepo) install(t testing.TB, version int, model []byte) {
	t.Helper()
	tmp := filepath.Join(r.model, fmt.Sprintf(".v%d.tmp", version))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "model.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(r.model, fmt.Sprint(version))); err != nil {
		t.Fatal(err)
	}
}

func openManager(t testing.TB, dir string, st *gpu.Staging, m *repo.Metrics, noWatch bool) *repo.Manager {
	t.Helper()
	mgr, err := repo.Open(context.Background(), repo.Options{Dir: dir, Staging: st, Metrics: m, NoWatch: noWatch,
		Settle: 30 * time.Millisecond, Rescan: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

func closeManager(t testing.TB, mgr *repo.Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := mgr.Close(ctx); err != nil {
		t.Error(err)
	}
}

// waitStatus waits until cond holds for the named model's status.
func waitStatus(t testing.TB, mgr *repo.Manager, name string, what string, cond func(repo.ModelStatus) bool) repo.ModelStatus {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ch := mgr.Changed()
		all, _ := mgr.Status()
		for _, s := range all {
			if s.Name == name && cond(s) {
				return s
			}
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s: %s; status: %+v", name, what, all)
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func servingVersion(v int) func(repo.ModelStatus) bool {
	return func(s repo.ModelStatus) bool { return s.Serving != nil && s.Serving.Version == v }
}

func TestManagerHotSwap(t *testing.T) {
	orttest.Init(t)
	for _, watch := range []bool{true, false} {
		t.Run(map[bool]string{true: "fsnotify", false: "rescan"}[watch], func(t *testing.T) {
			st := gputest.Staging(t)
			metrics := repo.NewMetrics()
			r := newSwapRepo(t)
			mgr := openManager(t, r.dir, st, metrics, !watch)
			defer closeManager(t, mgr)
			if err := mgr.Ready(); err != nil {
				t.Fatal(err)
			}

			// A frame in flight holds version 1 across the swap.
			v1, err := mgr.Acquire("sr")
			if err != nil || v1.Version() != 1 {
				t.Fatalf("acquire: %v %v", v1, err)
			}
			r.install(t, 2, r.sr)
			s := waitStatus(t, mgr, "sr", "version 2 serving", servingVersion(2))
			if len(s.Draining) != 1 || s.Draining[0].Version != 1 || s.Draining[0].InFlight != 1 {
				t.Fatalf("version 1 should drain with one frame in flight: %+v", s.Draining)
			}
			if v1.Closed() {
				t.Fatal("version 1 closed while a frame still holds it")
			}
			v2, err := mgr.Acquire("sr")
			if err != nil || v2.Version() != 2 {
				t.Fatalf("new frames must get version 2: %v %v", v2, err)
			}
			v2.Release()
			v1.Release()
			waitStatus(t, mgr, "sr", "version 1 closed", func(s repo.ModelStatus) bool { return len(s.Draining) == 0 })
			if !v1.Closed() {
				t.Fatal("drained version 1 is not closed")
			}

			// A broken version 3 leaves version 2 serving and is reported.
			r.install(t, 3, []byte("truncated garbage"))
			s = waitStatus(t, mgr, "sr", "version 3 failure", func(s repo.ModelStatus) bool { return len(s.Failures) > 0 })
			if s.Serving == nil || s.Serving.Version != 2 || s.Failures[0].Version != 3 || !strings.Contains(s.Problem, "is not an ONNX model") {
				t.Fatalf("after a broken version: %+v", s)
			}
			if got := counterValue(metrics.LoadFailures.WithLabelValues("sr", "3")); got != 1 {
				t.Fatalf("nnrp_model_load_failures_total{sr,3} = %v", got)
			}
			if err := mgr.Ready(); err != nil {
				t.Fatalf("a failed new version must not make the server unready: %v", err)
			}
			// Fixing the file retries it.
			if err := os.WriteFile(filepath.Join(r.model, "3", "model.onnx"), r.bilinear, 0o644); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, mgr, "sr", "version 3 serving", servingVersion(3))

			// A broken config edit leaves the serving version; a valid one is applied.
			cfg := filepath.Join(r.model, "config.yaml")
			if err := os.WriteFile(cfg, append(append([]byte{}, r.config...), "bogus: 1\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			s = waitStatus(t, mgr, "sr", "config failure", func(s repo.ModelStatus) bool { return strings.Contains(s.Problem, "bogus: is not a known field") })
			if s.Serving == nil || s.Serving.Version != 3 || s.Serving.TileSizes != "64x64, 128x128, 256x256" {
				t.Fatalf("after a broken config: %+v", s.Serving)
			}
			edited := strings.Replace(string(r.config), "tile_sizes: [64, 128, 256]", "tile_sizes: [64]", 1)
			if err := os.WriteFile(cfg, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, mgr, "sr", "edited config", func(s repo.ModelStatus) bool { return s.Serving != nil && s.Serving.TileSizes == "64x64" })

			if got := counterValue(metrics.Swaps.WithLabelValues("sr")); got != 4 {
				t.Errorf("swaps = %v, want 4 (v1, v2, v3, config edit)", got)
			}
		})
	}
}

func TestManagerNoDowngrade(t *testing.T) {
	orttest.Init(t)
	r := newSwapRepo(t)
	r.install(t, 2, r.sr)
	mgr := openManager(t, r.dir, gputest.Staging(t), nil, false)
	defer closeManager(t, mgr)
	waitStatus(t, mgr, "sr", "version 2", servingVersion(2))
	// A config that version 2 rejects (and version 1 would take) must not roll back to version 1.
	bad := strings.Replace(string(r.config), "name: output", "name: result", 1)
	if err := os.WriteFile(filepath.Join(r.model, "config.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	s := waitStatus(t, mgr, "sr", "config failure", func(s repo.ModelStatus) bool { return s.Problem != "" })
	if s.Serving == nil || s.Serving.Version != 2 || !strings.Contains(s.Problem, `outputs[0].name "result"`) {
		t.Fatalf("status: %+v", s)
	}
	// Deleting the serving version's folder falls back to the newest remaining one.
	if err := os.WriteFile(filepath.Join(r.model, "config.yaml"), r.config, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(r.model, "2")); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, mgr, "sr", "version 1 after deleting 2", servingVersion(1))
}

func TestManagerStartupFallsBackToOlderVersion(t *testing.T) {
	orttest.Init(t)
	r := newSwapRepo(t)
	r.install(t, 2, []byte("garbage"))
	mgr := openManager(t, r.dir, gputest.Staging(t), nil, false)
	defer closeManager(t, mgr)
	all, _ := mgr.Status()
	if s := all[0]; s.Serving == nil || s.Serving.Version != 1 || len(s.Failures) != 1 || s.Failures[0].Version != 2 {
		t.Fatalf("status: %+v", s)
	}
}

func TestManagerHalfWrittenCopy(t *testing.T) {
	orttest.Init(t)
	r := newSwapRepo(t)
	mgr := openManager(t, r.dir, gputest.Staging(t), nil, false)
	defer closeManager(t, mgr)
	// A non-atomic copy: the folder appears with part of the file, the rest comes later.
	dir := filepath.Join(r.model, "2")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(r.sr[:len(r.sr)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if _, err := f.Write(r.sr[len(r.sr)/2:]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s := waitStatus(t, mgr, "sr", "version 2", servingVersion(2))
	if s.Serving.InFlight != 0 {
		t.Fatalf("status: %+v", s)
	}
}

func TestManagerRemoveAndAdd(t *testing.T) {
	orttest.Init(t)
	r := newSwapRepo(t)
	mgr := openManager(t, r.dir, gputest.Staging(t), nil, false)
	defer closeManager(t, mgr)
	held, err := mgr.Acquire("sr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(r.model); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, mgr, "sr", "removed", func(s repo.ModelStatus) bool { return s.State == repo.StateRemoved })
	_, err = mgr.Acquire("sr")
	var le *repo.LookupError
	if !errors.Is(err, repo.ErrUnavailable) || !errors.As(err, &le) || !strings.Contains(err.Error(), `model "sr" is unavailable: it was removed from the repository`) {
		t.Fatalf("Acquire of a removed model: %v", err)
	}
	if err := mgr.Ready(); err != nil {
		t.Fatalf("a removed model must not make the server unready: %v", err)
	}
	if held.Closed() {
		t.Fatal("the removed model's version closed while a frame holds it")
	}
	held.Release()
	waitStatus(t, mgr, "sr", "drained", func(s repo.ModelStatus) bool { return len(s.Draining) == 0 })
	if !held.Closed() {
		t.Fatal("removed version not closed after draining")
	}

	// A model that appears is loaded; an unknown name lists what is available.
	repotest.Write(t, r.dir, map[string][]byte{"added/config.yaml": r.config, "added/1/model.onnx": r.bilinear})
	waitStatus(t, mgr, "added", "serving", servingVersion(1))
	if _, err := mgr.Acquire("nope"); !errors.Is(err, repo.ErrUnknownModel) || err.Error() != `unknown model "nope"; available: added` {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestManagerReadiness(t *testing.T) {
	orttest.Init(t)
	dir := repotest.Dir(t, map[string][]byte{"broken/config.yaml": []byte("backend: onnxruntime\n"), "echo/config.yaml": []byte("backend: echo\n")})
	mgr := openManager(t, dir, gputest.Staging(t), nil, true)
	defer closeManager(t, mgr)
	err := mgr.Ready()
	if err == nil || !strings.Contains(err.Error(), "broken (") || strings.Contains(err.Error(), "echo") {
		t.Fatalf("Ready: %v", err)
	}
	if _, err := mgr.Acquire("broken"); !errors.Is(err, repo.ErrUnavailable) || !strings.Contains(err.Error(), "inputs: is missing") {
		t.Fatalf("Acquire: %v", err)
	}
	e, err := mgr.Acquire("echo")
	if err != nil || !e.ProtocolEcho() {
		t.Fatalf("echo: %v", err)
	}
	e.Release()
}

func TestManagerCloseForcesStuckVersions(t *testing.T) {
	orttest.Init(t)
	r := newSwapRepo(t)
	mgr := openManager(t, r.dir, gputest.Staging(t), nil, true)
	m, err := mgr.Acquire("sr")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := mgr.Close(ctx); err == nil {
		t.Fatal("Close with a version held returned nil")
	}
	if !m.Closed() {
		t.Fatal("forced Close left the version open")
	}
	m.Release()
	if _, err := mgr.Acquire("sr"); !errors.Is(err, repo.ErrClosed) {
		t.Fatalf("Acquire after Close: %v", err)
	}
}

// BenchmarkLoad measures loading and warming up the shipped SR model (one version, its config's
// warm-up: tiles 64/128/256 × batches 1 and 4).
func BenchmarkLoad(b *testing.B) {
	orttest.Init(b)
	dir := repotest.Dir(b, repotest.Only(repotest.Shipped(b), repo.ShippedSR))
	st := gpu.NewStaging(gpu.StagingOptions{})
	defer func() { _ = st.Close() }()
	var load, warm float64
	for b.Loop() {
		mgr, err := repo.Open(context.Background(), repo.Options{Dir: dir, Staging: st, NoWatch: true, Rescan: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		all, _ := mgr.Status()
		if all[0].Serving == nil {
			b.Fatalf("not serving: %+v", all[0])
		}
		load += all[0].Serving.LoadSeconds
		warm += all[0].Serving.WarmupSeconds
		if err := mgr.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(load/float64(b.N)*1e3, "load-ms")
	b.ReportMetric(warm/float64(b.N)*1e3, "warmup-ms")
}

// BenchmarkSwapPause swaps versions (b.N times) while a worker keeps acquiring the model and
// running one-tile batches, as frames do. It reports the longest Acquire (the pause a swap imposes
// on frames: the pointer swap under the manager's lock) and the batch latency during the swaps
// next to the latency before them (the difference is CPU contention with the new version's
// warm-up, not a pause). Every Acquire must succeed.
func BenchmarkSwapPause(b *testing.B) {
	orttest.Init(b)
	r := newSwapRepo(b)
	st := gpu.NewStaging(gpu.StagingOptions{})
	defer func() { _ = st.Close() }()
	mgr := openManager(b, r.dir, st, nil, false)
	defer closeManager(b, mgr)

	in, _ := st.Input.Get(4 * 3 * 72 * 72)
	out, _ := st.Output.Get(4 * 3 * 128 * 128)
	defer in.Release()
	defer out.Release()
	batch := &backend.Batch{N: 1, TileH: 64, TileW: 64, Inputs: [][]float32{in.Float32s()}, Outputs: [][]float32{out.Float32s()}}
	var (
		stop, swapping atomic.Bool
		maxAcquire     atomic.Int64
		failures       atomic.Int64
		mu             sync.Mutex
		before, during []time.Duration
		done           = make(chan struct{})
	)
	go func() {
		defer close(done)
		for !stop.Load() {
			t0 := time.Now()
			m, err := mgr.Acquire("sr")
			acq := time.Since(t0)
			if err != nil {
				failures.Add(1)
				continue
			}
			if ns := acq.Nanoseconds(); ns > maxAcquire.Load() {
				maxAcquire.Store(ns)
			}
			err = m.Run(context.Background(), batch)
			m.Release()
			if err != nil {
				failures.Add(1)
			}
			mu.Lock()
			if swapping.Load() {
				during = append(during, time.Since(t0))
			} else {
				before = append(before, time.Since(t0))
			}
			mu.Unlock()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	b.ResetTimer()
	swapping.Store(true)
	for i := range b.N {
		v := i + 2
		r.install(b, v, [][]byte{r.sr, r.bilinear}[i%2])
		waitStatus(b, mgr, "sr", fmt.Sprintf("version %d", v), servingVersion(v))
	}
	b.StopTimer()
	stop.Store(true)
	<-done
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d frames failed during swaps", n)
	}
	p99 := func(d []time.Duration) float64 {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return float64(d[len(d)*99/100].Microseconds())
	}
	b.ReportMetric(float64(maxAcquire.Load())/1e3, "max-acquire-µs")
	b.ReportMetric(p99(before), "p99-frame-before-µs")
	b.ReportMetric(p99(during), "p99-frame-during-µs")
}

// TestManagerVersionIdentity: a new version folder with the same bytes is still a new version;
// rewriting the serving version's files with the same bytes reloads nothing.
func TestManagerVersionIdentity(t *testing.T) {
	orttest.Init(t)
	r := newSwapRepo(t)
	metrics := repo.NewMetrics()
	mgr := openManager(t, r.dir, gputest.Staging(t), metrics, false)
	defer closeManager(t, mgr)
	r.install(t, 2, r.bilinear)
	waitStatus(t, mgr, "sr", "version 2", servingVersion(2))
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(r.model, "2", "model.onnx"), future, future); err != nil {
		t.Fatal(err)
	}
	mgr.Rescan()
	time.Sleep(300 * time.Millisecond) // two settle periods and a rescan
	mgr.Rescan()
	time.Sleep(100 * time.Millisecond)
	if got := counterValue(metrics.Swaps.WithLabelValues("sr")); got != 2 {
		t.Fatalf("swaps = %v after touching the serving version's file, want 2", got)
	}
	if all, _ := mgr.Status(); all[0].Serving.Version != 2 || len(all[0].Failures) != 0 {
		t.Fatalf("status: %+v", all[0])
	}
}
