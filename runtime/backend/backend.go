// Package backend defines what the batching scheduler drives: a Backend runs one batch of B tile
// slots of identical shape from staging memory into preallocated output memory, with one call into
// the runtime per batch and no copy on the Go side. Implementations: the echo backend here (the
// transport and protocol test backend) and the ONNX Runtime backend in package onnxrt.
package backend

import (
	"context"
	"errors"
	"fmt"
)

// Backend kinds, as written in a model's config.yaml.
const (
	KindONNXRuntime = "onnxruntime"
	KindEcho        = "echo"
)

// Errors returned by backends (wrapped).
var (
	// ErrBatch: the batch does not fit the backend's Spec (sizes, counts, lengths).
	ErrBatch = errors.New("backend: batch does not fit the model")
	// ErrClosed: the backend was closed.
	ErrClosed = errors.New("backend: closed")
)

// Tensor is one model input or output as the backend binds it: its name in the model and its
// channel count.
type Tensor struct {
	Name     string
	Channels int
}

// Spec is the I/O contract of a backend instance. Every input slot of a batch holds one tile with
// Halo pixels of context on each side, (TileH+2·Halo)×(TileW+2·Halo) pixels per channel; every
// output slot holds the tile's result, (Scale·TileH)×(Scale·TileW) pixels per channel. Layout is
// NCHW float32 throughout.
type Spec struct {
	Inputs, Outputs []Tensor
	Halo, Scale     int
}

// InputSlot returns the float32 count of one slot of input i for tiles of th×tw.
func (s *Spec) InputSlot(i, th, tw int) int {
	return s.Inputs[i].Channels * (th + 2*s.Halo) * (tw + 2*s.Halo)
}

// OutputSlot returns the float32 count of one slot of output j for tiles of th×tw.
func (s *Spec) OutputSlot(j, th, tw int) int {
	return s.Outputs[j].Channels * s.Scale * th * s.Scale * tw
}

// Batch is one run of a backend: N slots of tiles of TileH×TileW (without the halo).
//
// Inputs[i] holds input i (in Spec order) as [N, C_i, TileH+2·Halo, TileW+2·Halo] and Outputs[j]
// receives output j as [N, C_j, Scale·TileH, Scale·TileW]; both are caller-owned staging memory
// (see package gpu) of at least that many values. The backend reads the inputs and writes the
// outputs in place during Run and keeps no reference to them afterwards that it would use without
// being handed them again.
type Batch struct {
	N            int
	TileH, TileW int
	Inputs       [][]float32
	Outputs      [][]float32
}

// Check validates b against s.
func (s *Spec) Check(b *Batch) error {
	if b.N < 1 || b.TileH < 1 || b.TileW < 1 {
		return fmt.Errorf("%w: %d slots of %d×%d tiles", ErrBatch, b.N, b.TileW, b.TileH)
	}
	if len(b.Inputs) != len(s.Inputs) || len(b.Outputs) != len(s.Outputs) {
		return fmt.Errorf("%w: %d inputs and %d outputs given, the model has %d and %d",
			ErrBatch, len(b.Inputs), len(b.Outputs), len(s.Inputs), len(s.Outputs))
	}
	for i, in := range b.Inputs {
		if need := b.N * s.InputSlot(i, b.TileH, b.TileW); len(in) < need {
			return fmt.Errorf("%w: input %q holds %d values, %d slots of %d×%d tiles with halo %d need %d",
				ErrBatch, s.Inputs[i].Name, len(in), b.N, b.TileW, b.TileH, s.Halo, need)
		}
	}
	for j, out := range b.Outputs {
		if need := b.N * s.OutputSlot(j, b.TileH, b.TileW); len(out) < need {
			return fmt.Errorf("%w: output %q holds %d values, %d slots of %d×%d tiles at scale %d need %d",
				ErrBatch, s.Outputs[j].Name, len(out), b.N, b.TileW, b.TileH, s.Scale, need)
		}
	}
	return nil
}

// Info describes a backend instance.
type Info struct {
	Kind string // KindONNXRuntime or KindEcho
	// Provider is the execution provider it runs on ("cpu", "cuda"; "go" for echo).
	Provider string
	// FallbackReason is why CUDA was not used although it was asked for ("" otherwise).
	FallbackReason string
}

// Backend runs batches. Run may be called from several goroutines at once. Close waits for runs
// in flight (after cancelling them) and releases native resources; it is called once.
type Backend interface {
	// Run executes one batch: exactly one call into the native runtime for native backends. On
	// error the outputs are unspecified. Cancelling ctx terminates the run (ErrCanceled-like
	// errors of the implementation).
	Run(ctx context.Context, b *Batch) error
	Info() Info
	Close() error
}

// Warmer is implemented by backends whose first runs need special handling (ONNX Runtime with
// CUDA may install signal handlers on the first run): Warmup is Run for warm-up batches.
type Warmer interface {
	Warmup(ctx context.Context, b *Batch) error
}
