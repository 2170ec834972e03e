package ortexec_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
)

// maxRunAllocs is what a Run on cached tensor buffers allocates with a context that cannot be
// cancelled: all of it inside onnxruntime_go v1.35.0 (DynamicAdvancedSession.RunWithOptions makes
// two OrtValue pointer slices and one ValueInternalData per input and output). ortexec adds none.
const maxRunAllocs = 4

// withCancelAllocs is the extra cost of a cancellable context: context.AfterFunc's registration.
const withCancelAllocs = 2

func TestRunAllocs(t *testing.T) {
	s := openCPU(t, "tile", tileModel(t))
	in, out := tiles(rand.New(rand.NewPCG(1, 1)), 1, 8, 8)
	ins, outs := []ortexec.Buffer{in}, []ortexec.Buffer{out}
	ctx := context.Background()
	if err := s.Run(ctx, ins, outs); err != nil {
		t.Fatal(err)
	}
	got := testing.AllocsPerRun(50, func() {
		if err := s.Run(ctx, ins, outs); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per Run (background context): %v", got)
	if got > maxRunAllocs {
		t.Errorf("%v allocations per Run, want ≤ %d", got, maxRunAllocs)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got = testing.AllocsPerRun(50, func() {
		if err := s.Run(cctx, ins, outs); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per Run (cancellable context): %v", got)
	if got > maxRunAllocs+withCancelAllocs {
		t.Errorf("%v allocations per Run with a cancellable context, want ≤ %d", got, maxRunAllocs+withCancelAllocs)
	}
}

// BenchmarkTileBatch measures in-process throughput of the shipped SR tile model on 64×64 tiles
// (72×72 inputs with the 4 px halo) at several batch sizes, with one intra-op thread and with
// ORT's default thread pool.
func BenchmarkTileBatch(b *testing.B) {
	orttest.Init(b)
	model := tileModel(b)
	for _, threads := range []int{1, 0} {
		s, err := ortexec.OpenBytes("tile", model, ortexec.Options{Provider: ortexec.ProviderCPU, IntraOpThreads: threads})
		if err != nil {
			b.Fatal(err)
		}
		name := "threads=default"
		if threads > 0 {
			name = fmt.Sprintf("threads=%d", threads)
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			for _, n := range []int{1, 2, 4, 8, 16, 32, 64} {
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					in, out := tiles(r, n, 64, 64)
					ins, outs := []ortexec.Buffer{in}, []ortexec.Buffer{out}
					ctx := context.Background()
					if err := s.Run(ctx, ins, outs); err != nil { // warm-up
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if err := s.Run(ctx, ins, outs); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tiles/s")
					b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N*n), "ms/tile")
				})
			}
		})
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadAndWarmup measures opening the SR tile model and its first batch-1 run.
func BenchmarkLoadAndWarmup(b *testing.B) {
	orttest.Init(b)
	model := tileModel(b)
	in, out := tiles(rand.New(rand.NewPCG(4, 4)), 1, 64, 64)
	b.ReportAllocs()
	for b.Loop() {
		s, err := ortexec.OpenBytes("tile", model, ortexec.Options{Provider: ortexec.ProviderCPU})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Warmup(context.Background(), []ortexec.Buffer{in}, []ortexec.Buffer{out}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
