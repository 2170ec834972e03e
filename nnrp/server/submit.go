package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Submit is one admitted FRAME_SUBMIT: an operation in flight.
//
// Buffer lifetime: Body and the tensor view in View alias the receive
// buffer. They are valid until the first of: Release, the frame's terminal
// answer (SendResult, SendResultDrop, or the engine's own answer, which cancels
// Context). Code that reads them while the engine may answer the frame
// concurrently (a cancel or a deadline can come at any time) must Hold the
// buffer first. Copy tiles out (e.g. into a staging buffer) and Release as
// early as possible so the connection's memory stays bounded.
type Submit struct {
	Header wire.Header
	Meta   wire.FrameSubmit
	// View is the zero-copy tensor view (valid when HasView).
	View    wire.SubmitView
	HasView bool
	// Body is the raw body.
	Body    []byte
	Arrived time.Time

	session *Session
	op      op // the owner's record of the operation (owner-only)

	// The context is made on first use (most answers never need it).
	ctxMu    sync.Mutex
	ctx      context.Context
	cancel   context.CancelCauseFunc
	endCause error // why the operation ended; nil while in flight

	deadline atomic.Int64 // unix nanoseconds, 0 = none
	priority atomic.Int32
	model    string // the session's model when the frame was admitted

	bufMu sync.Mutex
	buf   *bufpool.Buf
}

// Session returns the session the frame belongs to.
func (s *Submit) Session() *Session { return s.session }

// FrameID returns the header frame_id.
func (s *Submit) FrameID() uint32 { return s.Header.FrameID }

// OperationID returns the metadata operation_id.
func (s *Submit) OperationID() uint64 { return s.Meta.OperationID }

// Context is cancelled when the engine answered the frame itself (client
// cancel, deadline, shutdown, session or connection end); context.Cause
// says which (ErrCancelled, ErrExpired, ErrShuttingDown, ErrSessionClosed).
// Work for a cancelled frame should stop: its answer would be discarded.
func (s *Submit) Context() context.Context {
	s.ctxMu.Lock()
	defer s.ctxMu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancelCause(s.session.ctx)
		if s.endCause != nil {
			s.cancel(s.endCause)
		}
	}
	return s.ctx
}

// end records that the operation ended and cancels the context, if made.
func (s *Submit) end(cause error) {
	s.ctxMu.Lock()
	defer s.ctxMu.Unlock()
	if s.endCause == nil {
		s.endCause = cause
	}
	if s.cancel != nil {
		s.cancel(cause)
	}
}

// ended reports whether the operation already ended.
func (s *Submit) ended() bool {
	s.ctxMu.Lock()
	defer s.ctxMu.Unlock()
	return s.endCause != nil
}

// Deadline returns the frame's effective deadline: the earliest of arrival
// + latency budget (frame, else session default, else server default),
// DEADLINE and EXPIRE_AT. ok is false when the frame has no deadline.
func (s *Submit) Deadline() (t time.Time, ok bool) {
	n := s.deadline.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Priority returns the priority class last set by PRIORITY_UPDATE, or the
// session's priority.
func (s *Submit) Priority() int { return int(s.priority.Load()) }

// Model returns the model the session was bound to when the frame was
// admitted: a SESSION_PATCH applies to frames admitted after its ack.
func (s *Submit) Model() string { return s.model }

// Hold keeps Body and View valid until release is called, even if the frame
// gets its answer meanwhile. ok is false when the buffer is already gone
// (the frame was answered or released): then it must not be read. release is
// safe to call more than once.
func (s *Submit) Hold() (release func(), ok bool) {
	s.bufMu.Lock()
	defer s.bufMu.Unlock()
	if s.buf == nil {
		return func() {}, false
	}
	b := s.buf
	b.Retain()
	var once sync.Once
	return func() { once.Do(b.Release) }, true
}

// Release gives the receive buffer back early. Body and View must not be
// used afterwards. It is safe to call more than once.
func (s *Submit) Release() {
	s.bufMu.Lock()
	b := s.buf
	s.buf = nil
	s.bufMu.Unlock()
	if b != nil {
		b.Release()
	}
}

// op is the owner's record of an operation in flight.
type op struct {
	sub      *Submit
	frameID  uint32
	opID     uint64
	budget   time.Time // arrival + effective latency budget (zero: none)
	deadline time.Time // from DEADLINE (zero: none)
	expireAt time.Time // from EXPIRE_AT (zero: none)
	expFlags wire.SchedulingFlags
	seq      uint64     // last control_sequence seen for this operation
	timer    timerEntry // its pending deadline check
}

// effectiveDeadline is the earliest of the op's deadlines.
func (o *op) effectiveDeadline() time.Time {
	var d time.Time
	for _, t := range []time.Time{o.budget, o.deadline, o.expireAt} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

func (o *op) publishDeadline() {
	if d := o.effectiveDeadline(); !d.IsZero() {
		o.sub.deadline.Store(d.UnixNano())
	} else {
		o.sub.deadline.Store(0)
	}
}
