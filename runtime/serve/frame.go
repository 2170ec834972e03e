package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

// Frame is one FRAME_SUBMIT in execution on a model version: it holds a reference to the version
// (taken by Acquire, released when the frame is answered), its plan, and the result tiles as the
// batches produce them. Whoever is given a Frame (a Dispatcher) must answer it exactly once, with
// Complete or Fail.
type Frame struct {
	Session *server.Session
	Submit  *server.Submit
	Model   *repo.Model
	Plan    *Plan

	mu    sync.Mutex
	outs  [][][]byte // [output][position] → result tile bytes (aliasing output staging)
	have  int        // positions with outputs
	gath  int        // positions gathered into a batch
	holds []*Batch   // batches whose output staging the result aliases
	// hold keeps the receive buffer readable until every tile is gathered
	// (Submit.Hold); nil when the frame was built without one.
	hold     func()
	first    time.Time // start of the first batch run
	infer    time.Duration
	closing  bool // Complete or Fail began: no more outputs are taken
	onAnswer func(f *Frame, outcome string)
}

func newFrame(sess *server.Session, sub *server.Submit, m *repo.Model, p *Plan, onAnswer func(*Frame, string)) *Frame {
	f := &Frame{Session: sess, Submit: sub, Model: m, Plan: p, onAnswer: onAnswer}
	f.outs = make([][][]byte, len(p.outCh))
	for j := range f.outs {
		f.outs[j] = make([][]byte, p.n)
	}
	return f
}

// NewFrame binds a planned frame to its model version for a Dispatcher. m must be a reference
// from Manager.Acquire; the frame releases it when answered.
func NewFrame(sess *server.Session, sub *server.Submit, m *repo.Model, p *Plan) *Frame {
	return newFrame(sess, sub, m, p, nil)
}

func (f *Frame) isClosing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closing
}

// Ready reports whether every tile has its output.
func (f *Frame) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.have == f.Plan.n
}

// gathered counts a tile copied into staging; after the last one the receive buffer is released
// (the frame no longer reads it).
func (f *Frame) gathered() {
	f.mu.Lock()
	f.gath++
	last := f.gath == f.Plan.n
	f.mu.Unlock()
	if last {
		f.releaseInput()
	}
}

func (f *Frame) setOutputs(pos int, outs [][]byte, b *Batch, start time.Time, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return // answered (e.g. failed by another batch): the outputs are not needed
	}
	if f.outs[0][pos] == nil {
		f.have++
	}
	for j, o := range outs {
		f.outs[j][pos] = o
	}
	held := false
	for _, h := range f.holds {
		if h == b {
			held = true
		}
	}
	if !held {
		b.hold()
		f.holds = append(f.holds, b)
		f.infer += took
	}
	if f.first.IsZero() || start.Before(f.first) {
		f.first = start
	}
}

// Complete answers the frame with its RESULT_PUSH (class COMPLETE), whose sections alias the
// output staging, and releases everything the frame holds once the packet is written. Every tile
// must have its output. ctx bounds the write (the session's context).
func (f *Frame) Complete(ctx context.Context) error {
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return fmt.Errorf("%w: frame %d answered twice", ErrBatchState, f.Submit.FrameID())
	}
	if f.have != f.Plan.n {
		have := f.have
		f.mu.Unlock()
		return f.Fail(ctx, fmt.Errorf("%w: %d of %d tiles computed", ErrBatchState, have, f.Plan.n))
	}
	f.closing = true
	p := f.Plan
	r := &server.Result{Tiles: p.tiles, Sections: make([]wire.SectionData, len(f.outs))}
	for j, tiles := range f.outs {
		r.Sections[j] = wire.SectionData{RoleID: p.outRole[j], DTypeID: wire.DTypeFloat32, LayoutID: wire.LayoutNCHW,
			ElementCountPerTile: uint32(p.outCh[j] * p.scale * p.tw * p.scale * p.th), Tiles: tiles}
	}
	r.Meta.ActiveProfileID = f.Session.Info().Profile
	r.Meta.InferenceMS = clampMS(f.infer)
	if !f.first.IsZero() {
		r.Meta.QueueMS = clampMS(f.first.Sub(f.Submit.Arrived))
	}
	f.mu.Unlock()
	err := f.Session.SendResult(ctx, f.Submit, r)
	outcome := "complete"
	switch {
	case err == nil:
	case errors.Is(err, server.ErrNotInFlight):
		outcome = "late" // the engine answered it already (cancel, deadline)
	case ctx.Err() != nil:
		outcome = "session_closed"
	default:
		// The result was refused before anything was sent: the frame still needs its answer.
		outcome = "failed"
		_ = f.Session.SendResultDrop(ctx, f.Submit, wire.DropCapabilityMismatch, "the result could not be sent: "+err.Error())
	}
	f.finish(outcome)
	return err
}

// Fail answers the frame with a drop chosen from err: capability_mismatch for a *MismatchError
// or a model run failure, backpressure when staging memory is exhausted. A frame the engine
// already answered is only released.
func (f *Frame) Fail(ctx context.Context, err error) error {
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return fmt.Errorf("%w: frame %d answered twice", ErrBatchState, f.Submit.FrameID())
	}
	f.closing = true
	f.mu.Unlock()
	reason, outcome, diag := failReason(err)
	sendErr := f.Session.SendResultDrop(ctx, f.Submit, reason, diag)
	if errors.Is(sendErr, server.ErrNotInFlight) || f.Submit.Context().Err() != nil {
		outcome = "late"
	}
	f.finish(outcome)
	return sendErr
}

func failReason(err error) (wire.DropReason, string, string) {
	var mm *MismatchError
	switch {
	case errors.As(err, &mm):
		return wire.DropCapabilityMismatch, "mismatch", err.Error()
	case errors.Is(err, gpu.ErrLimit), errors.Is(err, gpu.ErrOutOfMemory):
		return wire.DropBackpressure, "backpressure", "no staging memory for the frame now; retry: " + err.Error()
	}
	return wire.DropCapabilityMismatch, "failed", "the model could not run the frame: " + err.Error()
}

// releaseInput gives back the receive buffer: the frame's hold and the
// submit's own reference (both idempotent).
func (f *Frame) releaseInput() {
	if f.hold != nil {
		f.hold()
	}
	f.Submit.Release()
}

// finish releases what the frame holds: output staging of its batches, the receive buffer (if
// not released yet), the model reference.
func (f *Frame) finish(outcome string) {
	f.mu.Lock()
	holds := f.holds
	f.holds = nil
	f.mu.Unlock()
	for _, b := range holds {
		b.unhold()
	}
	f.releaseInput()
	f.Model.Release()
	if f.onAnswer != nil {
		f.onAnswer(f, outcome)
	}
}

func clampMS(d time.Duration) uint16 {
	ms := d.Milliseconds()
	return uint16(min(max(ms, 0), 0xFFFF))
}
