package serve_test

import (
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo/repotest"
)

// BenchmarkFrame measures one frame's round trip through the real server and client over TCP
// (one frame in flight): a 512×512 RGB frame in 64×64 tiles. "protocol-echo" is the transport
// alone (server.EchoResult, no staging); "staged-echo" adds the execution path (planning, halo
// gather into staging, batches of 16 on the echo backend, results aliasing output staging);
// "sr" runs the Anime4K model.
func BenchmarkFrame(b *testing.B) {
	const staged = `backend: echo
inputs: [{role: 1, name: in, channels: 3}]
outputs: [{role: 1, name: out, channels: 3}]
tile_sizes: [64]
halo: 4
batching: {max_batch_tiles: 16}
`
	for _, c := range []struct{ name, model string }{{"protocol-echo", "echo"}, {"staged-echo", "staged"}, {"sr", repo.ShippedSR}} {
		b.Run(c.name, func(b *testing.B) {
			files := map[string][]byte{"echo/config.yaml": []byte("backend: echo\n"), "staged/config.yaml": []byte(staged)}
			if c.model == repo.ShippedSR {
				orttest.Init(b)
				files = repotest.Only(repotest.Shipped(b), repo.ShippedSR)
			}
			h := newHarness(b, repotest.Dir(b, files), harnessOptions{})
			s := h.open(b, h.dial(b), client.SessionOptions{Model: c.model})
			f, err := client.TensorFrame(testImage(3, 512, 512, 1), 64, 64, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(512 * 512 * 3 * 4)
			b.ReportAllocs()
			for b.Loop() {
				submit(b, s, f)
				if a := next(b, s); a.drop != 0 {
					b.Fatalf("dropped: %s", a.diag)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/frame")
		})
	}
}
