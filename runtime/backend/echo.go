package backend

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Echo is the echo backend: each output slot receives its input slot's tile unchanged (the slot
// without its halo). It needs Scale 1 and as many outputs as inputs, with the same channel counts.
// It is the backend for transport and protocol tests; its Run is a copy done in Go.
type Echo struct {
	spec   Spec
	closed atomic.Bool
}

// NewEcho returns an echo backend for spec.
func NewEcho(spec Spec) (*Echo, error) {
	if spec.Scale != 1 {
		return nil, fmt.Errorf("backend: echo returns its input: scale must be 1, not %d", spec.Scale)
	}
	if spec.Halo < 0 {
		return nil, fmt.Errorf("backend: echo: halo %d is negative", spec.Halo)
	}
	if len(spec.Inputs) != len(spec.Outputs) {
		return nil, fmt.Errorf("backend: echo returns its input: %d inputs but %d outputs", len(spec.Inputs), len(spec.Outputs))
	}
	for i := range spec.Inputs {
		if spec.Inputs[i].Channels != spec.Outputs[i].Channels {
			return nil, fmt.Errorf("backend: echo returns its input: input %q has %d channels, output %q has %d",
				spec.Inputs[i].Name, spec.Inputs[i].Channels, spec.Outputs[i].Name, spec.Outputs[i].Channels)
		}
	}
	return &Echo{spec: spec}, nil
}

// Run copies every slot's tile (without halo) from input i to output i.
func (e *Echo) Run(ctx context.Context, b *Batch) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("backend: echo: %w", context.Cause(ctx))
	}
	if err := e.spec.Check(b); err != nil {
		return err
	}
	h := e.spec.Halo
	hs, ws := b.TileH+2*h, b.TileW+2*h
	for i := range e.spec.Inputs {
		c := e.spec.Inputs[i].Channels
		in, out := b.Inputs[i], b.Outputs[i]
		for n := range b.N {
			for ch := range c {
				src := in[(n*c+ch)*hs*ws:]
				dst := out[(n*c+ch)*b.TileH*b.TileW:]
				for y := range b.TileH {
					copy(dst[y*b.TileW:(y+1)*b.TileW], src[(y+h)*ws+h:])
				}
			}
		}
	}
	return nil
}

// Info reports the echo backend.
func (e *Echo) Info() Info { return Info{Kind: KindEcho, Provider: "go"} }

// Close marks the backend closed; later runs fail with ErrClosed.
func (e *Echo) Close() error {
	if e.closed.Swap(true) {
		return ErrClosed
	}
	return nil
}
