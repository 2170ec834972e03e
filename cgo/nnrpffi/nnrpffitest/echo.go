package nnrpffitest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Commands an EchoServer reads from the common-header trace id of each
// FRAME_SUBMIT. Every RESULT_PUSH echoes the submitted body byte for byte and
// carries the metadata of EchoResultMetadata.
const (
	// CmdComplete: RESULT_PUSH class complete.
	CmdComplete uint64 = iota
	// CmdPartial: class partial, flag PARTIAL; a tensor submit gets about
	// half of its tiles (at least one) reported dropped, a tensor submit
	// without tiles tile count 8, covered 5, dropped 3.
	CmdPartial
	// CmdStaleReuse: class stale_reuse, flag STALE, reused_frame_id = the
	// submit's dependency_frame_id (which must be non-zero, else the frame
	// is dropped with capability_mismatch and the server records an error).
	CmdStaleReuse
	// CmdDegraded: class degraded, flag FALLBACK.
	CmdDegraded
	// CmdDrop: RESULT_DROP_REASON budget_exceeded, source server, flag final,
	// result sequence 1, diagnostic EchoDropDiagnostic.
	CmdDrop
	// CmdStream: PROGRESS (sequence 1, stage executing, 50 %),
	// PARTIAL_RESULT (sequence 1, the first half of the body), then a
	// complete RESULT_PUSH.
	CmdStream
	// CmdHold: no reply until the client cancels the frame (FRAME_CANCEL,
	// which the library reports as a control event, or CANCEL / ABORT, which
	// it passes on as runtime frames), then RESULT_DROP_REASON
	// peer_cancelled, diagnostic EchoCancelDiagnostic.
	CmdHold
)

// Diagnostics an EchoServer puts into its drops.
const (
	EchoDropDiagnostic   = "echo server drop"
	EchoCancelDiagnostic = "echo server cancelled"
)

// Timings every EchoServer result reports.
const (
	EchoInferenceMS   = 7
	EchoQueueMS       = 1
	EchoServerTotalMS = 9
)

// EchoResultMetadata is the RESULT_PUSH metadata an EchoServer sends for a
// submit with command cmd. Besides the class fields (see the Cmd
// constants) it describes the echoed body: a tensor submit's tile count,
// section count, tile base and tile index length are copied, so a body
// built by wire.SubmitBuilder decodes as a result (wire.ResultView); the
// payload kinds are the submit's when it has typed payload frames, else only
// its TENSOR bit (NNRP/1 R7: non-tensor kinds need typed frames); active
// profile 1 for a tensor submit, else 2; timings EchoInferenceMS,
// EchoQueueMS, EchoServerTotalMS; as applied budget policy the bit of its
// class, which the submit must allow (an EchoServer does not check that, as
// the official runtime does not).
func EchoResultMetadata(cmd uint64, submit *wire.FrameSubmit) wire.ResultPush {
	tensor := submit.IsTensor()
	m := wire.ResultPush{
		ActiveProfileID:   wire.ProfileToken,
		InferenceMS:       EchoInferenceMS,
		QueueMS:           EchoQueueMS,
		ServerTotalMS:     EchoServerTotalMS,
		PayloadKindBitmap: submit.PayloadKindBitmap & wire.PayloadTensor,
		PayloadFrameCount: submit.PayloadFrameCount,
	}
	if submit.PayloadFrameCount > 0 {
		m.PayloadKindBitmap = submit.PayloadKindBitmap
	}
	if tensor {
		m.ActiveProfileID = wire.ProfileTensor
		m.TileCount, m.SectionCount = submit.TileCount, submit.SectionCount
		m.TileBaseID, m.TileIndexBytes = submit.TileBaseID, submit.TileIndexBytes
		m.CoveredTileCount = m.TileCount
	}
	switch cmd {
	case CmdPartial:
		m.Class = wire.ClassPartial
		m.Flags = wire.ResultFlagPartial
		m.AppliedBudgetPolicy = wire.AllowPartial
		switch {
		case tensor && m.TileCount == 0:
			m.TileCount, m.CoveredTileCount, m.DroppedTileCount = 8, 5, 3
		case tensor:
			m.DroppedTileCount = (m.TileCount + 1) / 2
			m.CoveredTileCount = m.TileCount - m.DroppedTileCount
		}
	case CmdStaleReuse:
		m.Class = wire.ClassStaleReuse
		m.Flags = wire.ResultFlagStale
		m.AppliedBudgetPolicy = wire.AllowStaleReuse
		m.ReusedFrameID = submit.DependencyFrameID
	case CmdDegraded:
		m.Class = wire.ClassDegraded
		m.Flags = wire.ResultFlagFallback
		m.AppliedBudgetPolicy = wire.AllowDegraded
	}
	return m
}

// EchoServer is an official NNRP server that answers every submit according
// to the command in its trace id.
type EchoServer struct {
	srv       *nnrpffi.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu       sync.Mutex
	errs     []error
	sessions int
	frames   int
}

// StartEchoServer listens with o and serves until Close.
func StartEchoServer(lib *nnrpffi.Lib, o nnrpffi.ListenOptions) (*EchoServer, error) {
	srv, err := lib.Listen(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &EchoServer{srv: srv, cancel: cancel}
	e.wg.Add(1)
	go e.acceptLoop(ctx)
	return e, nil
}

// Endpoint is the bound endpoint.
func (e *EchoServer) Endpoint() string { return e.srv.Endpoint() }

// Counts returns the number of sessions accepted and frames answered so far.
func (e *EchoServer) Counts() (sessions, frames int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions, e.frames
}

func (e *EchoServer) fail(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

// Close stops accepting, ends every session loop, closes the server and
// returns every error the server met. Later calls return nnrpffi.ErrClosed.
func (e *EchoServer) Close() error {
	err := nnrpffi.ErrClosed
	e.closeOnce.Do(func() {
		e.cancel()
		e.wg.Wait()
		cerr := e.srv.Close()
		e.mu.Lock()
		defer e.mu.Unlock()
		err = errors.Join(append(e.errs, cerr)...)
	})
	return err
}

func (e *EchoServer) acceptLoop(ctx context.Context) {
	defer e.wg.Done()
	for {
		sess, err := e.srv.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.fail(fmt.Errorf("echo server accept: %w", err))
			}
			return
		}
		e.mu.Lock()
		e.sessions++
		e.mu.Unlock()
		e.wg.Add(1)
		go e.serve(ctx, sess)
	}
}

// servePoll bounds one Await so that a session loop notices Close.
const servePoll = 50 * time.Millisecond

func (e *EchoServer) serve(ctx context.Context, sess *nnrpffi.ServerSession) {
	defer e.wg.Done()
	held := map[uint32]nnrpffi.Operation{}
	for ctx.Err() == nil {
		events, err := sess.Await(servePoll, 1)
		for i := range events {
			ev := &events[i]
			switch {
			case ev.Submit != nil:
				if herr := e.answer(sess, ev, held); herr != nil {
					e.fail(herr)
				}
			case isCancel(ev.Header.Type):
				op, ok := held[ev.Header.FrameID]
				if !ok {
					continue // answered before the cancel arrived
				}
				delete(held, ev.Header.FrameID)
				if derr := sess.SendDrop(op, wire.ResultDropReason{
					Reason: wire.DropPeerCancelled, SourceRole: wire.RoleServer, Flags: wire.ResultDropFinal,
				}, []byte(EchoCancelDiagnostic)); derr != nil {
					e.fail(fmt.Errorf("echo server: drop of cancelled frame %d: %w", ev.Header.FrameID, derr))
				}
			case ev.Kind == nnrpffi.EventSessionClosed:
				if cerr := sess.Close(); cerr != nil {
					e.fail(fmt.Errorf("echo server: session %d close ack: %w", sess.ID(), cerr))
				}
				return
			}
		}
		if err != nil {
			// The client dropping its connection without SESSION_CLOSE ends
			// the session with "invalid state" (transport closed).
			if !errors.Is(err, nnrpffi.StatusInvalidState) {
				e.fail(fmt.Errorf("echo server: session %d: %w", sess.ID(), err))
			}
			break
		}
	}
	if err := sess.Close(); err != nil && !errors.Is(err, nnrpffi.StatusInvalidState) {
		e.fail(fmt.Errorf("echo server: session %d close: %w", sess.ID(), err))
	}
}

// isCancel reports the message types that cancel an operation.
func isCancel(t wire.MessageType) bool {
	return t == wire.TypeFrameCancel || t == wire.TypeCancel || t == wire.TypeAbort
}

func (e *EchoServer) answer(sess *nnrpffi.ServerSession, ev *nnrpffi.Event, held map[uint32]nnrpffi.Operation) error {
	cmd := ev.Header.TraceID
	op := ev.Op
	sub := ev.Submit
	switch cmd {
	case CmdHold:
		held[op.FrameID] = op
		return nil
	case CmdDrop:
		if err := sess.SendDrop(op, wire.ResultDropReason{
			ResultSequence: 1, Reason: wire.DropBudgetExceeded, SourceRole: wire.RoleServer, Flags: wire.ResultDropFinal,
		}, []byte(EchoDropDiagnostic)); err != nil {
			return fmt.Errorf("echo server: drop of frame %d: %w", op.FrameID, err)
		}
	case CmdStream:
		if err := sess.SendProgress(op, wire.Progress{ProgressSequence: 1, Stage: wire.StageExecuting, PercentX100: 5000}, nil); err != nil {
			return fmt.Errorf("echo server: progress of frame %d: %w", op.FrameID, err)
		}
		half := sub.Body[:len(sub.Body)/2]
		if len(half) == 0 {
			half = []byte{0} // a partial result needs a body or an object
		}
		if err := sess.SendPartial(op, wire.PartialResult{ResultSequence: 1}, half); err != nil {
			return fmt.Errorf("echo server: partial result of frame %d: %w", op.FrameID, err)
		}
		fallthrough
	default:
		m := EchoResultMetadata(cmd, &sub.Meta)
		if err := sess.SendResult(op, &m, sub.Body); err != nil {
			err = fmt.Errorf("echo server: result of frame %d: %w", op.FrameID, err)
			// The frame still gets its terminal answer.
			if derr := sess.SendDrop(op, wire.ResultDropReason{
				Reason: wire.DropCapabilityMismatch, SourceRole: wire.RoleServer, Flags: wire.ResultDropFinal,
			}, []byte(err.Error())); derr != nil {
				return errors.Join(err, derr)
			}
			return err
		}
	}
	e.mu.Lock()
	e.frames++
	e.mu.Unlock()
	return nil
}
