package onnxrt_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend/onnxrt"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var tileSpec = backend.Spec{Inputs: []backend.Tensor{{Name: "input", Channels: 3}}, Outputs: []backend.Tensor{{Name: "output", Channels: 3}}, Halo: 4, Scale: 2}

func bilinear(t *testing.T) []byte {
	b, err := modelgen.BuildBilinearTile()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunOnCallerBuffers(t *testing.T) {
	orttest.Init(t)
	be, err := onnxrt.Open("bilinear", bilinear(t), tileSpec, onnxrt.Options{Provider: ortexec.ProviderCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := be.Close(); err != nil {
			t.Error(err)
		}
	}()
	if info := be.Info(); info.Kind != backend.KindONNXRuntime || info.Provider != "cpu" || info.FallbackReason != "" {
		t.Fatalf("info %+v", info)
	}
	const n = 2
	in := make([]float32, n*tileSpec.InputSlot(0, 8, 16))
	for k := range in {
		in[k] = 0.25 + 0.5*float32(k/(len(in)/n)) // slot 0 is 0.25, slot 1 is 0.75
	}
	out := make([]float32, n*tileSpec.OutputSlot(0, 8, 16)+3)
	out[len(out)-1] = 42
	b := &backend.Batch{N: n, TileH: 8, TileW: 16, Inputs: [][]float32{in}, Outputs: [][]float32{out}}
	for range 2 { // the second run reuses the cached tensor wrappers
		if err := be.Warmup(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if err := be.Run(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	per := tileSpec.OutputSlot(0, 8, 16)
	for k, v := range out[:n*per] {
		if want := 0.25 + 0.5*float32(k/per); math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("output %d = %v, want %v", k, v, want)
		}
	}
	if out[len(out)-1] != 42 {
		t.Fatal("Run wrote past the batch")
	}
	if st := be.Session().Stats(); st.Runs != 4 || st.TensorHits == 0 {
		t.Fatalf("stats %+v: the staging buffers were not reused as tensors", st)
	}
	wrong := *b
	wrong.TileW = 15 // the output buffer is now larger than needed: fine; the shape is what counts
	wrong.Outputs = [][]float32{out[:10]}
	if err := be.Run(context.Background(), &wrong); !errors.Is(err, backend.ErrBatch) {
		t.Fatalf("short output: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := be.Run(ctx, b); !errors.Is(err, ortexec.ErrCanceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestOpenChecksBinding(t *testing.T) {
	orttest.Init(t)
	spec := tileSpec
	spec.Inputs = []backend.Tensor{{Name: "x", Channels: 3}}
	if _, err := onnxrt.Open("bilinear", bilinear(t), spec, onnxrt.Options{Provider: ortexec.ProviderCPU}); err == nil ||
		!strings.Contains(err.Error(), `model input "input" is not bound by the spec`) {
		t.Fatalf("Open: %v", err)
	}
	if _, err := onnxrt.Open("garbage", []byte("nope"), tileSpec, onnxrt.Options{}); !errors.Is(err, ortexec.ErrInvalidModel) {
		t.Fatalf("Open of garbage: %v", err)
	}
}

// TestCUDAFallback: provider auto on a machine without the CUDA provider libraries runs on the
// CPU and reports ONNX Runtime's reason.
func TestCUDAFallback(t *testing.T) {
	orttest.Init(t)
	be, err := onnxrt.Open("bilinear", bilinear(t), tileSpec, onnxrt.Options{Provider: ortexec.ProviderAuto})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = be.Close() }()
	info := be.Info()
	if info.Provider == string(ortexec.ProviderCUDA) {
		t.Skip("CUDA is available here")
	}
	if info.Provider != "cpu" || info.FallbackReason == "" {
		t.Fatalf("info %+v: a fallback must say why", info)
	}
}
