package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

// Errors of batches.
var (
	// ErrBatchFull: Add on a batch with no free slot.
	ErrBatchFull = errors.New("serve: batch is full")
	// ErrBatchMix: Add of a frame on another model version or tile size than the batch's.
	ErrBatchMix = errors.New("serve: frame does not match the batch")
	// ErrBatchState: Add after Run, Run twice, or Run of an empty batch.
	ErrBatchState = errors.New("serve: batch used out of order")
)

// Batch is one run of a model version on up to Cap slots of identical shape, filled from any
// number of frames (of the same version and tile size). Lifecycle: NewBatch takes staging buffers;
// Add gathers a frame's tile into the next slot; Run runs the model once and hands each slot's
// output slices to its frame; Release gives up the builder's hold. Input staging returns to its
// pool at Release; output staging when, in addition, every frame that took slices of it has been
// answered (the result's sections alias it: nothing is copied).
//
// A Batch is driven by one goroutine (Add, Run, Release); the frames it feeds may be answered from
// others.
type Batch struct {
	model *repo.Model
	tile  repo.TileSize
	cap   int
	spec  backend.Spec
	in    []*gpu.Buffer
	out   []*gpu.Buffer
	slots []slot
	ran   bool

	mu    sync.Mutex
	holds int // the builder + each frame holding output slices
}

type slot struct {
	f   *Frame
	pos int
}

// NewBatch takes staging for up to capacity slots of m with tiles of the given size.
func NewBatch(m *repo.Model, st *gpu.Staging, tile repo.TileSize, capacity int) (*Batch, error) {
	if capacity < 1 {
		return nil, fmt.Errorf("%w: capacity %d", ErrBatchState, capacity)
	}
	b := &Batch{model: m, tile: tile, cap: capacity, spec: m.Spec(), holds: 1, slots: make([]slot, 0, capacity)}
	for i := range b.spec.Inputs {
		buf, err := st.Input.Get(4 * capacity * b.spec.InputSlot(i, tile.H, tile.W))
		if err != nil {
			b.release()
			return nil, err
		}
		b.in = append(b.in, buf)
	}
	for j := range b.spec.Outputs {
		buf, err := st.Output.Get(4 * capacity * b.spec.OutputSlot(j, tile.H, tile.W))
		if err != nil {
			b.release()
			return nil, err
		}
		b.out = append(b.out, buf)
	}
	return b, nil
}

// Len returns the slots filled; Cap the capacity.
func (b *Batch) Len() int { return len(b.slots) }

// Cap returns the capacity.
func (b *Batch) Cap() int { return b.cap }

// Frames returns the distinct frames with slots in the batch (to fail them when Run fails).
func (b *Batch) Frames() []*Frame {
	var out []*Frame
	for _, s := range b.slots {
		if len(out) == 0 || out[len(out)-1] != s.f {
			dup := false
			for _, f := range out {
				dup = dup || f == s.f
			}
			if !dup {
				out = append(out, s.f)
			}
		}
	}
	return out
}

// Add gathers the tile at position pos of f (with its halo) into the next slot.
func (b *Batch) Add(f *Frame, pos int) error {
	switch {
	case b.ran:
		return fmt.Errorf("%w: Add after Run", ErrBatchState)
	case len(b.slots) == b.cap:
		return ErrBatchFull
	case f.Model != b.model || f.Plan.TileSize() != b.tile:
		return fmt.Errorf("%w: frame of %s v%d with %s tiles, batch of %s v%d with %s tiles", ErrBatchMix,
			f.Model.Name(), f.Model.Version(), f.Plan.TileSize(), b.model.Name(), b.model.Version(), b.tile)
	case pos < 0 || pos >= f.Plan.n:
		return fmt.Errorf("%w: position %d of a %d-tile frame", ErrBatchMix, pos, f.Plan.n)
	case f.isClosing():
		return fmt.Errorf("%w: frame %d is already answered (its receive buffer may be gone)", ErrBatchState, f.Submit.FrameID())
	}
	k := len(b.slots)
	for i, buf := range b.in {
		n := f.Plan.SlotLen(i)
		f.Plan.Gather(buf.Float32s()[k*n:(k+1)*n], i, pos)
	}
	b.slots = append(b.slots, slot{f, pos})
	f.gathered()
	return nil
}

// Run runs the model once on the filled slots and, on success, gives each frame its output
// slices. ctx cancels the run.
func (b *Batch) Run(ctx context.Context) error {
	if b.ran || len(b.slots) == 0 {
		return fmt.Errorf("%w: Run of a batch with %d slots (ran: %v)", ErrBatchState, len(b.slots), b.ran)
	}
	b.ran = true
	n := len(b.slots)
	bt := &backend.Batch{N: n, TileH: b.tile.H, TileW: b.tile.W}
	for _, buf := range b.in {
		bt.Inputs = append(bt.Inputs, buf.Float32s())
	}
	for _, buf := range b.out {
		bt.Outputs = append(bt.Outputs, buf.Float32s())
	}
	start := time.Now()
	if err := b.model.Run(ctx, bt); err != nil {
		return err
	}
	took := time.Since(start)
	for k, s := range b.slots {
		outs := make([][]byte, len(b.out))
		for j, buf := range b.out {
			size := 4 * b.spec.OutputSlot(j, b.tile.H, b.tile.W)
			outs[j] = buf.Bytes()[k*size : (k+1)*size : (k+1)*size]
			if !nativeLittleEndian {
				toLittleEndian(outs[j])
			}
		}
		s.f.setOutputs(s.pos, outs, b, start, took)
	}
	return nil
}

// hold adds a frame holding output slices.
func (b *Batch) hold() {
	b.mu.Lock()
	b.holds++
	b.mu.Unlock()
}

// unhold drops a hold; the last one returns the output staging.
func (b *Batch) unhold() {
	b.mu.Lock()
	b.holds--
	last := b.holds == 0
	b.mu.Unlock()
	if last {
		for _, buf := range b.out {
			buf.Release()
		}
		b.out = nil
	}
}

// Release ends the builder's use: input staging returns to its pool now, output staging once the
// frames holding it are answered. Call it exactly once, after Run (or instead of it).
func (b *Batch) Release() { b.release() }

func (b *Batch) release() {
	for _, buf := range b.in {
		buf.Release()
	}
	b.in = nil
	b.unhold()
}

// toLittleEndian rewrites native float32 values as little-endian bytes in place (big-endian
// hosts only).
func toLittleEndian(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		v := *(*uint32)(unsafe.Pointer(&b[i]))
		b[i], b[i+1], b[i+2], b[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
}
