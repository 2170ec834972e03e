package ortexec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		helperProcess()
		return
	}
	goleak.VerifyTestMain(m)
}

func tileModel(t testing.TB) []byte {
	t.Helper()
	w, err := modelgen.ParseAnime4KS(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := modelgen.BuildAnime4KTile(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openCPU(t testing.TB, name string, model []byte) *ortexec.Session {
	t.Helper()
	orttest.Init(t)
	s, err := ortexec.OpenBytes(name, model, ortexec.Options{Provider: ortexec.ProviderCPU, IntraOpThreads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// tiles returns a batch of n random haloed tiles for th×tw outputs and its preallocated output.
func tiles(r *rand.Rand, n, th, tw int) (in, out ortexec.Buffer) {
	h, w := th+8, tw+8
	in = ortexec.Buffer{Shape: []int64{int64(n), 3, int64(h), int64(w)}, Data: make([]float32, n*3*h*w)}
	for i := range in.Data {
		in.Data[i] = r.Float32()
	}
	out = ortexec.Buffer{Shape: []int64{int64(n), 3, int64(2 * th), int64(2 * tw)}, Data: make([]float32, n*3*4*th*tw)}
	return in, out
}

func run(s *ortexec.Session, ctx context.Context, in, out ortexec.Buffer) error {
	return s.Run(ctx, []ortexec.Buffer{in}, []ortexec.Buffer{out})
}

func TestIntrospection(t *testing.T) {
	orttest.Init(t)
	model := tileModel(t)
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ortexec.Open(path, ortexec.Options{Provider: ortexec.ProviderCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if s.Provider() != ortexec.ProviderCPU || s.FallbackReason() != "" {
		t.Errorf("provider %q, fallback %q; want cpu and none", s.Provider(), s.FallbackReason())
	}
	ins, outs := s.Inputs(), s.Outputs()
	if len(ins) != 1 || len(outs) != 1 {
		t.Fatalf("inputs %v outputs %v", ins, outs)
	}
	if got := ins[0].String(); got != "input float[N,3,H,W]" {
		t.Errorf("input %s", got)
	}
	if got := outs[0].String(); got != "output float[N,3,OH,OW]" {
		t.Errorf("output %s", got)
	}
	if ins[0].Elem != ortexec.ElemFloat32 || !ins[0].Tensor || ins[0].Shape[1].Value != 3 || ins[0].Shape[0].Fixed() || ins[0].Shape[0].Param != "N" {
		t.Errorf("input details %+v", ins[0])
	}
	md := s.Metadata()
	if md["nnrp.halo"] != "4" || md["nnrp.scale"] != "2" {
		t.Errorf("metadata %v", md)
	}
	// The returned slices are copies.
	ins[0].Shape[0].Param = "changed"
	if s.Inputs()[0].Shape[0].Param != "N" {
		t.Error("Inputs() exposes the session's own slice")
	}
	bil, err := modelgen.BuildBilinearTile()
	if err != nil {
		t.Fatal(err)
	}
	info, err := ortexec.ReadModelInfo(bil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Inputs[0].String() != s.Inputs()[0].String() || info.Outputs[0].String() != s.Outputs()[0].String() || info.Opsets[""] != 17 {
		t.Errorf("bilinear twin declares %v → %v (opsets %v); want the SR model's contract", info.Inputs, info.Outputs, info.Opsets)
	}
}

// signalsIntact checks that Go's SIGUSR1 handler still delivers to os/signal.
func signalsIntact(t *testing.T) {
	t.Helper()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGUSR1 not delivered: Go's signal handlers were replaced")
	}
}

func TestCUDAFallback(t *testing.T) {
	lib := orttest.Init(t)
	model := tileModel(t)
	_, statErr := os.Stat(filepath.Join(filepath.Dir(lib), "libonnxruntime_providers_shared.so"))
	noProviders := errors.Is(statErr, os.ErrNotExist)

	auto, err := ortexec.OpenBytes("tile", model, ortexec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = auto.Close() }()
	t.Logf("auto: provider %s, fallback reason %q", auto.Provider(), auto.FallbackReason())
	if noProviders {
		if auto.Provider() != ortexec.ProviderCPU {
			t.Errorf("auto without CUDA provider libraries chose %q", auto.Provider())
		}
		// research/dependencies.md §3: the node 1.29.0 core without provider libraries.
		if r := auto.FallbackReason(); !strings.Contains(r, "libonnxruntime_providers_shared.so") || !strings.Contains(r, "No such file or directory") {
			t.Errorf("fallback reason %q; want ORT's text about the missing libonnxruntime_providers_shared.so", r)
		}
	}
	if auto.Provider() == ortexec.ProviderCPU && auto.FallbackReason() == "" {
		t.Error("auto fell back to the CPU without a reason")
	}
	r := rand.New(rand.NewPCG(1, 1))
	in, out := tiles(r, 1, 8, 8)
	if err := run(auto, context.Background(), in, out); err != nil {
		t.Fatalf("the fallback session does not run: %v", err)
	}

	if auto.Provider() == ortexec.ProviderCPU {
		_, err = ortexec.OpenBytes("tile", model, ortexec.Options{Provider: ortexec.ProviderCUDA})
		var e *ortexec.Error
		if !errors.Is(err, ortexec.ErrProviderUnavailable) || !errors.As(err, &e) || e.ORT != auto.FallbackReason() {
			t.Errorf("strict cuda: %v; want ErrProviderUnavailable carrying ORT's text %q", err, auto.FallbackReason())
		}
		lenient, err := ortexec.OpenBytes("tile", model, ortexec.Options{Provider: ortexec.ProviderCUDA, CUDAFallback: true})
		if err != nil {
			t.Fatalf("cuda with CUDAFallback: %v", err)
		}
		if lenient.Provider() != ortexec.ProviderCPU || lenient.FallbackReason() == "" {
			t.Errorf("cuda with CUDAFallback: provider %q reason %q", lenient.Provider(), lenient.FallbackReason())
		}
		_ = lenient.Close()
	}
	signalsIntact(t)
}

func TestBatchesMatchBatchOne(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	const th, tw = 64, 64
	r := rand.New(rand.NewPCG(2, 3))
	all, _ := tiles(r, 16, th, tw)
	inSize, outSize := 3*(th+8)*(tw+8), 3*4*th*tw
	single := make([][]float32, 16)
	for i := range single {
		in := ortexec.Buffer{Shape: []int64{1, 3, th + 8, tw + 8}, Data: all.Data[i*inSize : (i+1)*inSize]}
		out := ortexec.Buffer{Shape: []int64{1, 3, 2 * th, 2 * tw}, Data: make([]float32, outSize)}
		if err := run(s, context.Background(), in, out); err != nil {
			t.Fatal(err)
		}
		single[i] = out.Data
	}
	for _, n := range []int{1, 3, 16} {
		in := ortexec.Buffer{Shape: []int64{int64(n), 3, th + 8, tw + 8}, Data: all.Data[:n*inSize]}
		out := ortexec.Buffer{Shape: []int64{int64(n), 3, 2 * th, 2 * tw}, Data: make([]float32, n*outSize)}
		if err := run(s, context.Background(), in, out); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if !slicesEqual(out.Data[i*outSize:(i+1)*outSize], single[i]) {
				t.Errorf("batch %d: tile %d differs from its batch-1 run", n, i)
			}
		}
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTensorReuse(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	r := rand.New(rand.NewPCG(4, 5))
	in, out := tiles(r, 4, 16, 16)
	if err := run(s, context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	st0 := s.Stats()
	if st0.TensorsCreated != 2 || st0.TensorHits != 0 || st0.Runs != 1 {
		t.Fatalf("after one run: %+v", st0)
	}
	first := append([]float32(nil), out.Data...)
	for range 3 {
		if err := run(s, context.Background(), in, out); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.TensorsCreated != 2 || st.TensorHits != 6 {
		t.Errorf("same buffers again: %+v; want no new tensors and 6 hits", st)
	}
	if !slicesEqual(first, out.Data) {
		t.Error("a reused output tensor produced different values")
	}
	// The same memory with a smaller batch is a different tensor.
	in2 := ortexec.Buffer{Shape: []int64{2, 3, 24, 24}, Data: in.Data}
	out2 := ortexec.Buffer{Shape: []int64{2, 3, 32, 32}, Data: out.Data}
	if err := run(s, context.Background(), in2, out2); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().TensorsCreated; got != 4 {
		t.Errorf("a new shape on the same memory: %d tensors created, want 4", got)
	}
	if !slicesEqual(first[:2*3*32*32], out.Data[:2*3*32*32]) {
		t.Error("batch 2 on the same memory differs from the first two tiles of batch 4")
	}
	s.ForgetBuffers()
	if err := run(s, context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().TensorsCreated; got != 6 {
		t.Errorf("after ForgetBuffers: %d tensors created, want 6", got)
	}
}

func TestTensorCacheEviction(t *testing.T) {
	orttest.Init(t)
	s, err := ortexec.OpenBytes("tile", tileModel(t), ortexec.Options{Provider: ortexec.ProviderCPU, TensorCache: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	r := rand.New(rand.NewPCG(6, 7))
	for i := range 5 {
		in, out := tiles(r, 1, 4, 4)
		if err := run(s, context.Background(), in, out); err != nil {
			t.Fatalf("run %d with a full cache: %v", i, err)
		}
	}
	if st := s.Stats(); st.TensorsCreated != 10 {
		t.Errorf("%+v; want 10 tensors for 5 distinct buffer pairs", st)
	}
}

// bigBatch returns a batch that takes a while to run on the CPU.
func bigBatch(n int) (in, out ortexec.Buffer) {
	return tiles(rand.New(rand.NewPCG(8, 9)), n, 64, 64)
}

func TestCancelInFlight(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	in, out := bigBatch(192)
	start := time.Now()
	if err := run(s, context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	t.Logf("uncancelled batch of 192 64×64 tiles: %v", full)

	for _, how := range []string{"context", "Cancel", "deadline"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if how == "deadline" {
				ctx, cancel = context.WithTimeout(context.Background(), full/10)
				defer cancel()
			}
			var err error
			var returned time.Time
			done := make(chan struct{})
			go func() {
				defer close(done)
				err = run(s, ctx, in, out)
				returned = time.Now()
			}()
			time.Sleep(full / 10)
			canceledAt := time.Now()
			switch how {
			case "context":
				cancel()
			case "Cancel":
				s.Cancel()
			}
			<-done
			if !errors.Is(err, ortexec.ErrCanceled) {
				t.Fatalf("run returned %v, want ErrCanceled", err)
			}
			switch how {
			case "context":
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%v does not wrap context.Canceled", err)
				}
			case "deadline":
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%v does not wrap context.DeadlineExceeded", err)
				}
			}
			// ORT checks the terminate flag between nodes, so the lag is at most one node's run
			// time (a 3×3 conv over the whole batch here); TestCancelPromptness bounds it tightly.
			lag := returned.Sub(canceledAt)
			t.Logf("%s: returned %v after cancellation (full run %v): %v", how, lag, full, err)
			if lag > full {
				t.Errorf("cancellation took %v, longer than a whole run (%v)", lag, full)
			}
		})
	}
	// The terminate flag is cleared: the next run completes.
	small, smallOut := tiles(rand.New(rand.NewPCG(1, 2)), 1, 8, 8)
	if err := run(s, context.Background(), small, smallOut); err != nil {
		t.Fatalf("run after cancellations: %v", err)
	}
	if st := s.Stats(); st.Canceled != 3 {
		t.Errorf("stats %+v; want 3 canceled", st)
	}
}

// TestCancelPromptness runs a chain of 48 equal convolutions, so that one node is about 2% of the
// run: a cancelled run must return within a small fraction of the full time.
func TestCancelPromptness(t *testing.T) {
	const layers = 48
	model := smallModel(t, func(g *modelgen.Graph) {
		x := g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(4), modelgen.Sym("H"), modelgen.Sym("W"))
		w := make([]float32, 4*4*9)
		for i := range w {
			w[i] = float32(i%7-3) / 40
		}
		for i := range layers {
			wt := g.Float32(fmt.Sprintf("w%d", i), []int64{4, 4, 3, 3}, w)
			x = g.Node("Conv", fmt.Sprintf("conv%d", i), []string{x, wt}, modelgen.AttrInts("pads", 1, 1, 1, 1))
		}
		g.NodeN("Identity", "out", []string{x}, []string{"y"})
		g.Output("y", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(4), modelgen.Sym("H"), modelgen.Sym("W"))
	})
	s := openCPU(t, "chain", model)
	const n, hw = 64, 96
	in := ortexec.Buffer{Shape: []int64{n, 4, hw, hw}, Data: make([]float32, n*4*hw*hw)}
	out := ortexec.Buffer{Shape: in.Shape, Data: make([]float32, len(in.Data))}
	for i := range in.Data {
		in.Data[i] = float32(i%13) / 13
	}
	start := time.Now()
	if err := run(s, context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(s, ctx, in, out) }()
	time.Sleep(full / 4)
	canceledAt := time.Now()
	cancel()
	err := <-done
	lag := time.Since(canceledAt)
	t.Logf("chain of %d convs: full run %v, returned %v after cancellation", layers, full, lag)
	if !errors.Is(err, ortexec.ErrCanceled) {
		t.Fatalf("%v, want ErrCanceled", err)
	}
	if lag > full/5 {
		t.Errorf("cancellation took %v; with %d equal nodes it should take about %v", lag, layers, full/layers)
	}
}

func TestRunWithDoneContext(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	in, out := tiles(rand.New(rand.NewPCG(1, 3)), 1, 8, 8)
	ctx, cancel := context.WithCancelCause(context.Background())
	boom := errors.New("session closed by peer")
	cancel(boom)
	err := run(s, ctx, in, out)
	if !errors.Is(err, ortexec.ErrCanceled) || !errors.Is(err, boom) {
		t.Fatalf("%v; want ErrCanceled wrapping the cause", err)
	}
	if s.Stats().Runs != 0 {
		t.Error("a run with a done context reached ONNX Runtime")
	}
}

func TestCloseDuringRun(t *testing.T) {
	orttest.Init(t)
	s, err := ortexec.OpenBytes("tile", tileModel(t), ortexec.Options{Provider: ortexec.ProviderCPU})
	if err != nil {
		t.Fatal(err)
	}
	in, out := bigBatch(128)
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = run(s, context.Background(), in, out)
	}()
	time.Sleep(30 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	if runErr != nil && !errors.Is(runErr, ortexec.ErrCanceled) {
		t.Errorf("in-flight run returned %v, want nil or ErrCanceled", runErr)
	}
	if err := s.Close(); !errors.Is(err, ortexec.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if err := run(s, context.Background(), in, out); !errors.Is(err, ortexec.ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	s.Cancel()        // no-op, must not crash
	s.ForgetBuffers() // likewise
}

func TestConcurrentRuns(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	const workers = 4
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 99))
			in, out := tiles(r, 2, 16, 16)
			want := ortexec.Buffer{Shape: out.Shape, Data: make([]float32, len(out.Data))}
			for j := range 5 {
				o := out
				if j == 0 {
					o = want
				}
				if err := run(s, context.Background(), in, o); err != nil {
					errs[i] = err
					return
				}
				if j > 0 && !slicesEqual(o.Data, want.Data) {
					errs[i] = errors.New("concurrent runs gave different results for the same input")
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// smallModel builds a one-op test model.
func smallModel(t *testing.T, build func(g *modelgen.Graph)) []byte {
	t.Helper()
	g := modelgen.NewGraph("test", "")
	build(g)
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScalarInputsAndOutputs(t *testing.T) {
	orttest.Init(t)
	model := smallModel(t, func(g *modelgen.Graph) {
		x := g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"))
		k := g.Input("k", onnxpb.TensorProto_FLOAT) // rank 0
		sum := g.Node("ReduceSum", "sum", []string{x}, modelgen.AttrInt("keepdims", 0))
		g.NodeN("Mul", "scaled", []string{sum, k}, []string{"total"})
		g.Output("total", onnxpb.TensorProto_FLOAT) // rank 0
	})
	s := openCPU(t, "scalar", model)
	if got := s.Outputs()[0]; len(got.Shape) != 0 || got.Shape == nil {
		t.Fatalf("scalar output declared as %+v", got)
	}
	in := ortexec.Buffer{Shape: []int64{4}, Data: []float32{1, 2, 3, 4}}
	k := ortexec.Buffer{Data: []float32{0.5}}
	out := ortexec.Buffer{Data: []float32{-1}}
	for range 2 {
		if err := s.Run(context.Background(), []ortexec.Buffer{in, k}, []ortexec.Buffer{out}); err != nil {
			t.Fatal(err)
		}
		if out.Data[0] != 5 {
			t.Fatalf("scalar output %v, want 5", out.Data[0])
		}
		k.Data[0] = 2
		out.Data[0] = -1
		if err := s.Run(context.Background(), []ortexec.Buffer{in, k}, []ortexec.Buffer{out}); err != nil {
			t.Fatal(err)
		}
		if out.Data[0] != 20 {
			t.Fatalf("scalar output %v after changing the scalar input, want 20", out.Data[0])
		}
		k.Data[0] = 0.5
	}
	if err := s.Run(context.Background(), []ortexec.Buffer{in, {Data: nil}}, []ortexec.Buffer{out}); !errors.Is(err, ortexec.ErrInvalidArgument) {
		t.Errorf("scalar input without data: %v, want ErrInvalidArgument", err)
	}
}

func TestRunErrors(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	r := rand.New(rand.NewPCG(10, 11))
	in, out := tiles(r, 2, 8, 8)
	ctx := context.Background()
	cases := map[string]struct {
		ins, outs []ortexec.Buffer
		kind      error
		ort       bool // the error comes from ONNX Runtime
	}{
		"zero inputs":     {nil, []ortexec.Buffer{out}, ortexec.ErrInvalidArgument, false},
		"zero outputs":    {[]ortexec.Buffer{in}, nil, ortexec.ErrInvalidArgument, false},
		"4 channels":      {[]ortexec.Buffer{{Shape: []int64{2, 4, 16, 16}, Data: make([]float32, 2*4*16*16)}}, []ortexec.Buffer{out}, ortexec.ErrInvalidArgument, false},
		"rank 3":          {[]ortexec.Buffer{{Shape: []int64{3, 16, 16}, Data: in.Data}}, []ortexec.Buffer{out}, ortexec.ErrInvalidArgument, false},
		"short data":      {[]ortexec.Buffer{{Shape: in.Shape, Data: in.Data[:10]}}, []ortexec.Buffer{out}, ortexec.ErrInvalidArgument, false},
		"zero batch":      {[]ortexec.Buffer{{Shape: []int64{0, 3, 16, 16}, Data: in.Data}}, []ortexec.Buffer{out}, ortexec.ErrInvalidArgument, false},
		"N mismatch":      {[]ortexec.Buffer{in}, []ortexec.Buffer{{Shape: []int64{1, 3, 16, 16}, Data: out.Data}}, ortexec.ErrInvalidArgument, false},
		"tile too small":  {[]ortexec.Buffer{{Shape: []int64{2, 3, 6, 6}, Data: in.Data}}, []ortexec.Buffer{out}, ortexec.ErrInvalidArgument, true},
		"wrong out shape": {[]ortexec.Buffer{in}, []ortexec.Buffer{{Shape: []int64{2, 3, 8, 8}, Data: out.Data}}, ortexec.ErrInvalidArgument, true},
	}
	for name, c := range cases {
		err := s.Run(ctx, c.ins, c.outs)
		var e *ortexec.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v, want an *ortexec.Error", name, err)
			continue
		}
		if c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", name, err, c.kind)
		}
		if c.ort != (e.ORT != "") {
			t.Errorf("%s: ORT text %q; from ONNX Runtime: %v", name, e.ORT, c.ort)
		}
		if !strings.Contains(err.Error(), "(") {
			t.Errorf("%s: %q has no hint", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	// The session still works after all of that.
	if err := run(s, ctx, in, out); err != nil {
		t.Fatalf("run after errors: %v", err)
	}
}

func TestModelWithoutInputs(t *testing.T) {
	orttest.Init(t)
	model := smallModel(t, func(g *modelgen.Graph) {
		c := g.Float32("c", []int64{2}, []float32{1, 2})
		g.NodeN("Identity", "id", []string{c}, []string{"y"})
		g.Output("y", onnxpb.TensorProto_FLOAT, modelgen.Fixed(2))
	})
	s := openCPU(t, "no-inputs", model)
	if len(s.Inputs()) != 0 {
		t.Fatalf("inputs %v", s.Inputs())
	}
	out := ortexec.Buffer{Shape: []int64{2}, Data: make([]float32, 2)}
	err := s.Run(context.Background(), nil, []ortexec.Buffer{out})
	if !errors.Is(err, ortexec.ErrInvalidArgument) || !strings.Contains(err.Error(), "no inputs") {
		t.Fatalf("zero-input model: %v, want ErrInvalidArgument", err)
	}
}

func TestOpenErrors(t *testing.T) {
	orttest.Init(t)
	model := tileModel(t)
	dir := t.TempDir()
	if _, err := ortexec.Open(filepath.Join(dir, "missing.onnx"), ortexec.Options{}); !errors.Is(err, ortexec.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	unknownOp := smallModel(t, func(g *modelgen.Graph) {
		x := g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Fixed(1))
		g.NodeN("NoSuchOperator", "bad", []string{x}, []string{"y"})
		g.Output("y", onnxpb.TensorProto_FLOAT, modelgen.Fixed(1))
	})
	garbage := make([]byte, 4096)
	gr := rand.New(rand.NewPCG(5, 5))
	for i := range garbage {
		garbage[i] = byte(gr.Uint32())
	}
	for name, c := range map[string]struct {
		data []byte
		opts ortexec.Options
		kind error
	}{
		"empty":            {nil, ortexec.Options{}, ortexec.ErrInvalidModel},
		"garbage":          {garbage, ortexec.Options{}, ortexec.ErrInvalidModel},
		"truncated":        {model[:len(model)/2], ortexec.Options{}, ortexec.ErrInvalidModel},
		"text":             {[]byte("this is not a model"), ortexec.Options{}, ortexec.ErrInvalidModel},
		"unknown operator": {unknownOp, ortexec.Options{Provider: ortexec.ProviderCPU}, ortexec.ErrInvalidModel},
		"unknown op, auto": {unknownOp, ortexec.Options{}, ortexec.ErrInvalidModel},
		"unknown op, cuda": {unknownOp, ortexec.Options{Provider: ortexec.ProviderCUDA, CUDAFallback: true}, ortexec.ErrInvalidModel},
		"unknown provider": {model, ortexec.Options{Provider: "tpu"}, ortexec.ErrInvalidArgument},
		"negative threads": {model, ortexec.Options{IntraOpThreads: -1}, ortexec.ErrInvalidArgument},
	} {
		s, err := ortexec.OpenBytes(name, c.data, c.opts)
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", name, err, c.kind)
		}
		if s != nil {
			t.Errorf("%s: got a session", name)
			_ = s.Close()
		}
		t.Logf("%s: %v", name, err)
	}
	corrupt := filepath.Join(dir, "corrupt.onnx")
	if err := os.WriteFile(corrupt, bytes.Repeat([]byte{0xff}, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ortexec.Open(corrupt, ortexec.Options{}); !errors.Is(err, ortexec.ErrInvalidModel) {
		t.Errorf("corrupt file: %v", err)
	}
}

func TestInitRefusesOtherLibrary(t *testing.T) {
	orttest.Init(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := ortexec.Init(self); !errors.Is(err, ortexec.ErrLibrary) {
		t.Errorf("Init with a second library: %v, want ErrLibrary", err)
	}
	if ortexec.LibraryVersion() != "1.29.0" {
		t.Errorf("library version %q, want 1.29.0 (the pinned ORT)", ortexec.LibraryVersion())
	}
}

// ---- a child process with an oversized command line ----

const helperEnv = "ORTEXEC_TEST_HELPER"

// helperProcess runs in the child: it initialises ORT with whatever command line it was given and
// reports the result on stdout. Without the guard this would die with SIGSEGV inside CreateEnv.
func helperProcess() {
	err := ortexec.Init(os.Getenv(ortexec.LibraryEnv))
	if err != nil {
		fmt.Println("INIT ERROR: " + err.Error())
		os.Exit(0)
	}
	fmt.Println("INIT OK")
	os.Exit(0)
}

func TestInitGuardsLargeCommandLine(t *testing.T) {
	lib := orttest.RequireFile(t, ortexec.LibraryEnv, "run `make ort`")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		argLen int
		want   string
	}{
		{30000, "INIT ERROR: ortexec: init: onnxruntime library unusable: the command line is"},
		{100, "INIT OK"},
	} {
		cmd := exec.Command(self, strings.Repeat("a", c.argLen))
		cmd.Env = append(os.Environ(), helperEnv+"=1", ortexec.LibraryEnv+"="+lib)
		outb, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child with a %d-byte argument: %v\n%s", c.argLen, err, outb)
		}
		if !strings.Contains(string(outb), c.want) {
			t.Errorf("child with a %d-byte argument printed %q, want %q", c.argLen, outb, c.want)
		}
	}
}
