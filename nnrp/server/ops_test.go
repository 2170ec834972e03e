package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// hold is an application that never answers: frames wait for the engine
// (cancel, deadline, shutdown).
func hold(ctx context.Context, s *server.Session, sub *server.Submit) {}

func smallFrame(t *testing.T, budgetMS uint16) *client.Frame {
	t.Helper()
	f, err := client.TensorFrame(testImage(1, 4, 4, 0), 4, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	f.Meta.LatencyBudgetMS = budgetMS
	return f
}

func expectDrop(t *testing.T, ev client.Event, frame uint32, reason wire.DropReason) {
	t.Helper()
	defer ev.Release()
	if ev.Kind != client.EventDrop || ev.FrameID != frame || ev.Drop != reason {
		t.Fatalf("got kind %v frame %d drop %v (%s), want drop %v for frame %d", ev.Kind, ev.FrameID, ev.Drop, ev.Diagnostic, reason, frame)
	}
}

func TestCancelAnswersTraceThenDrop(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, hold)
	c := h.dial(t, carrier.TCP)
	s := open(t, c, client.SessionOptions{})
	ctx := context.Background()
	id, err := s.Submit(ctx, smallFrame(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	if ev.Header.Type != wire.TypeTraceContext || ev.FrameID != 0 {
		t.Fatalf("first answer %v frame %d, want TRACE_CONTEXT frame 0 (C§9.2 S1)", ev.Header.Type, ev.FrameID)
	}
	ev.Release()
	expectDrop(t, next(t, s), id, wire.DropPeerCancelled)

	// FRAME_CANCEL behaves the same.
	id2, _ := s.Submit(ctx, smallFrame(t, 0))
	if err := s.CancelFrame(ctx, id2); err != nil {
		t.Fatal(err)
	}
	tc := next(t, s)
	tc.Release()
	expectDrop(t, next(t, s), id2, wire.DropPeerCancelled)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDeadlineSafetyNet(t *testing.T) {
	h := newHarness(t, server.Profile{DeadlineGrace: time.Millisecond}, server.Options{}, hold)
	c := h.dial(t, carrier.TCP)
	s := open(t, c, client.SessionOptions{})
	id, err := s.Submit(context.Background(), smallFrame(t, 30))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	expectDrop(t, next(t, s), id, wire.DropDeadlineExpired)
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Fatalf("dropped after %v, before the 30 ms budget", el)
	}
}

func TestSessionDefaultDeadline(t *testing.T) {
	h := newHarness(t, server.Profile{DeadlineGrace: time.Millisecond}, server.Options{}, hold)
	c := h.dial(t, carrier.Unix)
	s := open(t, c, client.SessionOptions{DefaultDeadline: 25 * time.Millisecond})
	id, _ := s.Submit(context.Background(), smallFrame(t, 0))
	expectDrop(t, next(t, s), id, wire.DropDeadlineExpired)
}

func TestDeadlineBeforeSubmitAndExpireAt(t *testing.T) {
	var got = make(chan time.Time, 4)
	h := newHarness(t, server.Profile{DeadlineGrace: time.Millisecond}, server.Options{},
		func(ctx context.Context, s *server.Session, sub *server.Submit) {
			d, _ := sub.Deadline()
			got <- d
		})
	c := h.dial(t, carrier.TCP)
	s := open(t, c, client.SessionOptions{})
	ctx := context.Background()
	// C§9.2 S2: DEADLINE for operation 151 of (future) frame 1 first.
	deadline := time.Now().Add(40 * time.Millisecond).Truncate(time.Millisecond)
	dl := wire.Deadline{OperationID: 151, ControlSequence: 1, DeadlineUnixMS: uint64(deadline.UnixMilli())}
	if err := s.Send(ctx, wire.Header{FrameID: 1}, &dl); err != nil {
		t.Fatal(err)
	}
	f := smallFrame(t, 0)
	f.Meta.OperationID = 151
	id, err := s.Submit(ctx, f)
	if err != nil || id != 1 {
		t.Fatalf("submit: %d %v", id, err)
	}
	if d := <-got; !d.Equal(deadline) {
		t.Fatalf("frame deadline %v, want %v from the early DEADLINE", d, deadline)
	}
	expectDrop(t, next(t, s), 1, wire.DropDeadlineExpired)

	// C§9.2 S3: EXPIRE_AT(1) with discard_stale|emit_drop_reason on a live
	// operation: drop reason 2 as the first event.
	f = smallFrame(t, 0)
	f.Meta.OperationID = 201
	id, _ = s.Submit(ctx, f)
	<-got
	pu := wire.PriorityUpdate{OperationID: 201, ControlSequence: 201, PriorityClass: 10}
	_ = s.Send(ctx, wire.Header{FrameID: id}, &pu)
	ea := wire.ExpireAt{OperationID: 201, ControlSequence: 201, DeadlineUnixMS: 1,
		Flags: wire.ScheduleDiscardStale | wire.ScheduleEmitDropReason}
	_ = s.Send(ctx, wire.Header{FrameID: id}, &ea)
	expectDrop(t, next(t, s), id, wire.DropSuperseded)
}

func TestInFlightLimitEnforced(t *testing.T) {
	h := newHarness(t, server.Profile{MaxConcurrentFrames: 4}, server.Options{}, hold)
	c := h.dial(t, carrier.TCP)
	ctx := context.Background()
	// A session asking for more than the server allows is refused.
	if _, err := c.OpenSession(ctx, client.SessionOptions{MaxInFlight: 8}); err == nil {
		t.Fatal("session asking for 8 in flight accepted by a server allowing 4")
	}
	s := open(t, c, client.SessionOptions{MaxInFlight: 4})
	for i := 0; i < 4; i++ {
		if _, err := s.Submit(ctx, smallFrame(t, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// The client ignores its window (as the official client does): the
	// fifth frame is answered at once with a backpressure drop.
	id, _ := s.Submit(ctx, smallFrame(t, 0))
	hint := next(t, s)
	if hint.Header.Type != wire.TypeResultHint || hint.FrameID != id {
		t.Fatalf("got %v for frame %d, want RESULT_HINT before the backpressure drop", hint.Header.Type, hint.FrameID)
	}
	hint.Release()
	expectDrop(t, next(t, s), id, wire.DropBackpressure)
}

func TestManySessionsOneConnection(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, nil)
	c := h.dial(t, carrier.TCP)
	ctx := context.Background()
	var sessions []*client.Session
	for i := 0; i < 6; i++ {
		sessions = append(sessions, open(t, c, client.SessionOptions{MaxInFlight: 4}))
	}
	ids := map[uint32]bool{}
	for _, s := range sessions {
		if ids[s.ID()] {
			t.Fatalf("session id %d allocated twice", s.ID())
		}
		ids[s.ID()] = true
	}
	done := make(chan error, len(sessions))
	for i, s := range sessions {
		go func() {
			for j := 0; j < 30; j++ {
				img := testImage(1, 8, 8, float32(100*i+j))
				f, _ := client.TensorFrame(img, 8, 8, 1)
				f.Meta.LatencyBudgetMS = 5000
				id, err := s.Submit(ctx, f)
				if err != nil {
					done <- err
					return
				}
				ev, err := s.Next(ctx)
				if err != nil {
					done <- err
					return
				}
				if ev.Kind != client.EventResult || ev.FrameID != id || ev.Header.SessionID != s.ID() {
					done <- fmt.Errorf("session %d frame %d: got %v frame %d session %d", s.ID(), id, ev.Kind, ev.FrameID, ev.Header.SessionID)
					return
				}
				got, _ := client.Float32s(ev.Result.Section(0).Tile(0))
				if got[0] != img.Data[0] {
					done <- fmt.Errorf("session %d received another session's data", s.ID())
					return
				}
				ev.Release()
			}
			done <- s.Close(ctx)
		}()
	}
	for range sessions {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestShutdownDropsInFlight(t *testing.T) {
	h := newHarness(t, server.Profile{}, server.Options{}, hold)
	c := h.dial(t, carrier.TCP)
	s := open(t, c, client.SessionOptions{})
	id, _ := s.Submit(context.Background(), smallFrame(t, 0))
	time.Sleep(20 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		done <- h.srv.Shutdown(ctx)
	}()
	expectDrop(t, next(t, s), id, wire.DropTransportClosed)
	if err := <-done; err == nil {
		t.Fatal("Shutdown reported a clean drain although a frame was still held")
	}
}

// Frames the engine answered before the application took them must not
// fill the session's queue: the connection keeps working while the
// application is slow to call ReceiveSubmit.
func TestSlowApplicationDoesNotStallConnection(t *testing.T) {
	release := make(chan struct{})
	var first sync.Once
	h := newHarness(t, server.Profile{MaxConcurrentFrames: 2, DeadlineGrace: time.Millisecond}, server.Options{},
		func(ctx context.Context, s *server.Session, sub *server.Submit) {
			first.Do(func() { <-release }) // the application stalls on its first frame
			echo(ctx, s, sub)
		})
	c := h.dial(t, carrier.TCP)
	s := open(t, c, client.SessionOptions{MaxInFlight: 2})
	ctx := context.Background()
	// Frame 1 is taken and stalls the application; then rounds of 2 frames
	// with a 20 ms budget expire in the queue, one round after another.
	_, _ = s.Submit(ctx, smallFrame(t, 0))
	time.Sleep(20 * time.Millisecond)
	for round := 0; round < 4; round++ {
		a, _ := s.Submit(ctx, smallFrame(t, 20))
		ev := next(t, s)
		if ev.Kind != client.EventDrop || ev.FrameID != a || ev.Drop != wire.DropDeadlineExpired {
			t.Fatalf("round %d: got %v frame %d (%v), want deadline drop of %d", round, ev.Kind, ev.FrameID, ev.Drop, a)
		}
		ev.Release()
	}
	close(release)
}
