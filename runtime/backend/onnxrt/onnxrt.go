// Package onnxrt is the ONNX Runtime backend: a backend.Backend over one runtime/ortexec session.
// A batch is one ORT Run on the caller's staging buffers (ortexec wraps them as tensors without
// copying and caches the wrappers per buffer), so inputs are read and outputs written in place.
package onnxrt

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// Options configure Open.
type Options struct {
	// Provider is "auto" (try CUDA, fall back to the CPU), "cpu" or "cuda".
	Provider ortexec.Provider
	DeviceID int
	// IntraOpThreads sizes ORT's intra-op pool (0: ORT's default).
	IntraOpThreads int
	Logger         *slog.Logger
}

// Backend runs a model with ONNX Runtime.
type Backend struct {
	sess *ortexec.Session
	spec backend.Spec
	// inOrder[k] is the Spec index of the session's k-th input; outOrder likewise.
	inOrder, outOrder []int
}

// Open creates an ORT session for the model bytes (name identifies it in errors) and binds the
// spec's tensors to the model's inputs and outputs by name. Every model input and output must be
// in the spec: Run hands ORT one buffer for each.
func Open(name string, model []byte, spec backend.Spec, o Options) (*Backend, error) {
	sess, err := ortexec.OpenBytes(name, model, ortexec.Options{
		Provider: o.Provider, DeviceID: o.DeviceID, IntraOpThreads: o.IntraOpThreads, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	b := &Backend{sess: sess, spec: spec}
	if b.inOrder, err = bind("input", sess.Inputs(), spec.Inputs); err == nil {
		b.outOrder, err = bind("output", sess.Outputs(), spec.Outputs)
	}
	if err != nil {
		_ = sess.Close()
		return nil, fmt.Errorf("onnxrt: %s: %w", name, err)
	}
	return b, nil
}

func bind(kind string, model []ortexec.ValueInfo, spec []backend.Tensor) ([]int, error) {
	if len(model) != len(spec) {
		return nil, fmt.Errorf("the model has %d %ss, the spec binds %d", len(model), kind, len(spec))
	}
	order := make([]int, len(model))
	for k, v := range model {
		order[k] = -1
		for i, t := range spec {
			if t.Name == v.Name {
				order[k] = i
			}
		}
		if order[k] < 0 {
			return nil, fmt.Errorf("model %s %q is not bound by the spec", kind, v.Name)
		}
	}
	return order, nil
}

// buffers builds the ortexec buffers of a batch in the session's order.
func (b *Backend) buffers(bt *backend.Batch) (ins, outs []ortexec.Buffer) {
	n, h, s := int64(bt.N), int64(b.spec.Halo), int64(b.spec.Scale)
	th, tw := int64(bt.TileH), int64(bt.TileW)
	ins = make([]ortexec.Buffer, len(b.inOrder))
	for k, i := range b.inOrder {
		size := b.spec.InputSlot(i, bt.TileH, bt.TileW) * bt.N
		ins[k] = ortexec.Buffer{Shape: []int64{n, int64(b.spec.Inputs[i].Channels), th + 2*h, tw + 2*h}, Data: bt.Inputs[i][:size:size]}
	}
	outs = make([]ortexec.Buffer, len(b.outOrder))
	for k, j := range b.outOrder {
		size := b.spec.OutputSlot(j, bt.TileH, bt.TileW) * bt.N
		outs[k] = ortexec.Buffer{Shape: []int64{n, int64(b.spec.Outputs[j].Channels), s * th, s * tw}, Data: bt.Outputs[j][:size:size]}
	}
	return ins, outs
}

// Run is one ORT Run over the batch's staging buffers.
func (b *Backend) Run(ctx context.Context, bt *backend.Batch) error {
	if err := b.spec.Check(bt); err != nil {
		return err
	}
	ins, outs := b.buffers(bt)
	return b.sess.Run(ctx, ins, outs)
}

// Warmup is Run for the first batches of a session (ortexec.Session.Warmup: signal-guarded on
// CUDA).
func (b *Backend) Warmup(ctx context.Context, bt *backend.Batch) error {
	if err := b.spec.Check(bt); err != nil {
		return err
	}
	ins, outs := b.buffers(bt)
	return b.sess.Warmup(ctx, ins, outs)
}

// Info reports the provider the session runs on and why CUDA was not used, if it was asked for.
func (b *Backend) Info() backend.Info {
	return backend.Info{Kind: backend.KindONNXRuntime, Provider: string(b.sess.Provider()), FallbackReason: b.sess.FallbackReason()}
}

// Session returns the underlying ortexec session.
func (b *Backend) Session() *ortexec.Session { return b.sess }

// Close cancels runs in flight, waits for them and frees the session.
func (b *Backend) Close() error {
	if err := b.sess.Close(); err != nil {
		return fmt.Errorf("onnxrt: %w", err)
	}
	return nil
}
