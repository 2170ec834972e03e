package serve

import (
	"github.com/nnrp-gpu/nnrp-gpu/gpu"
)

// Dispatcher executes planned frames. Dispatch takes ownership of the frame: it must answer it
// exactly once (Frame.Complete or Frame.Fail), now or later. The batching scheduler implements it
// by packing the tiles of frames from many sessions into Batches; Direct is the simple one.
type Dispatcher interface {
	Dispatch(f *Frame)
}

// Direct runs each frame on the calling goroutine in batches of up to the model's
// batching.max_batch_tiles slots, all from that frame: one backend call per batch. It is the
// dispatcher until the cross-session scheduler replaces it.
type Direct struct {
	Staging *gpu.Staging
}

// Dispatch runs f and answers it.
func (d *Direct) Dispatch(f *Frame) {
	ctx := f.Submit.Context() // cancelled when the engine answered the frame itself
	wctx := f.Session.Context()
	n := f.Plan.Tiles()
	if n == 0 {
		_ = f.Complete(wctx)
		return
	}
	per := f.Model.Config().Batching.MaxBatchTiles
	for start := 0; start < n; start += per {
		if ctx.Err() != nil {
			_ = f.Fail(wctx, ctx.Err())
			return
		}
		k := min(per, n-start)
		b, err := NewBatch(f.Model, d.Staging, f.Plan.TileSize(), k)
		if err != nil {
			_ = f.Fail(wctx, err)
			return
		}
		for pos := start; pos < start+k && err == nil; pos++ {
			err = b.Add(f, pos)
		}
		if err == nil {
			err = b.Run(ctx)
		}
		b.Release()
		if err != nil {
			_ = f.Fail(wctx, err)
			return
		}
	}
	_ = f.Complete(wctx)
}
