package client

import (
	"context"
	"fmt"
	"sync"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/link"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// EventKind classifies what Next returns.
type EventKind uint8

// Event kinds.
const (
	// EventResult is a RESULT_PUSH: the frame's terminal success.
	EventResult EventKind = iota + 1
	// EventDrop is RESULT_DROP or RESULT_DROP_REASON: the frame's terminal
	// drop.
	EventDrop
	// EventProgress, EventPartial: non-terminal progress of a frame.
	EventProgress
	EventPartial
	// EventHint: RESULT_HINT, FLOW_UPDATE, BACKPRESSURE or CREDIT_UPDATE.
	EventHint
	// EventError: an ERROR or ERROR_RECOVERABLE from the server.
	EventError
	// EventOther: any other session packet (TRACE_CONTEXT, CACHE_MISS,
	// PONG, SESSION_PATCH_ACK, ...); inspect Packet.
	EventOther
)

// Event is one packet of the session. Result, Packet and Diagnostic alias
// the receive buffer until Release.
type Event struct {
	Kind    EventKind
	Header  wire.Header
	FrameID uint32
	// Result is the decoded RESULT_PUSH (Kind EventResult).
	Result *wire.ResultView
	// Drop and Diagnostic describe a drop (Kind EventDrop); Drop is 0 for
	// the reason-less RESULT_DROP.
	Drop       wire.DropReason
	Diagnostic []byte
	// Error is set for EventError.
	Error *wire.ErrorMessage
	// Packet is the raw packet.
	Packet wire.Packet
	buf    *bufpool.Buf
}

// resultViews recycles decoded results: a view is a few KiB and one is
// needed per result.
var resultViews = sync.Pool{New: func() any { return new(wire.ResultView) }}

// Release gives the event's buffer (and decoded result) back. The event,
// its Result and every slice taken from it must not be used after.
func (e *Event) Release() {
	if e.buf != nil {
		e.buf.Release()
		e.buf = nil
	}
	if e.Result != nil {
		resultViews.Put(e.Result)
		e.Result = nil
	}
}

// Terminal reports whether the event ends its frame.
func (e *Event) Terminal() bool { return e.Kind == EventResult || e.Kind == EventDrop }

// Next returns the session's next event. Terminal events end their frame's
// bookkeeping. A malformed packet from the server is returned as an error
// (the session goes on).
func (s *Session) Next(ctx context.Context) (Event, error) {
	p, err := s.recv(ctx)
	if err != nil {
		return Event{}, err
	}
	ev := Event{Header: p.P.Header, FrameID: p.P.Header.FrameID, Packet: p.P, buf: p.Buf}
	pk := &ev.Packet
	switch pk.Header.Type {
	case wire.TypeResultPush:
		ev.Kind = EventResult
		v := resultViews.Get().(*wire.ResultView)
		if err = v.Decode(pk, wire.Limits{}); err == nil {
			ev.Result = v
		} else {
			resultViews.Put(v)
		}
	case wire.TypeResultDrop:
		ev.Kind = EventDrop
		err = pk.CheckHeaderOnly()
	case wire.TypeResultDropReason:
		ev.Kind = EventDrop
		var m wire.ResultDropReason
		if m, err = wire.Decode(pk, wire.ParseResultDropReason); err == nil {
			ev.Drop, ev.Diagnostic = m.Reason, pk.Body
		}
	case wire.TypeProgress:
		ev.Kind = EventProgress
		_, err = wire.Decode(pk, wire.ParseProgress)
	case wire.TypePartialResult:
		ev.Kind = EventPartial
		_, err = wire.Decode(pk, wire.ParsePartialResult)
	case wire.TypeResultHint, wire.TypeFlowUpdate, wire.TypeBackpressure, wire.TypeCreditUpdate:
		ev.Kind = EventHint
	case wire.TypeError:
		ev.Kind = EventError
		var m wire.ErrorMessage
		if m, err = wire.Decode(pk, wire.ParseErrorMessage); err == nil {
			ev.Error, ev.Diagnostic = &m, pk.Body
		}
	default:
		ev.Kind = EventOther
	}
	if err != nil {
		ev.Release()
		return Event{}, fmt.Errorf("client: session %d: %w", s.id, err)
	}
	if ev.Terminal() {
		s.mu.Lock()
		delete(s.ops, ev.FrameID)
		s.mu.Unlock()
	}
	return ev, nil
}

// recv returns the next queued packet; queued packets are delivered even
// after the connection ended.
func (s *Session) recv(ctx context.Context) (link.Packet, error) {
	select {
	case p := <-s.events:
		return p, nil
	default:
	}
	select {
	case p := <-s.events:
		return p, nil
	case <-ctx.Done():
		return link.Packet{}, context.Cause(ctx)
	case <-s.c.done:
		select {
		case p := <-s.events:
			return p, nil
		default:
			return link.Packet{}, s.c.err
		}
	}
}
