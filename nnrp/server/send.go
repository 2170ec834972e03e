package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Result is an application's answer to a frame (RESULT_PUSH, D§8).
type Result struct {
	// Meta carries what the application decides: Class, Flags,
	// AppliedBudgetPolicy, ReusedFrameID, DroppedTileCount (and
	// CoveredTileCount, defaulting to tile_count − dropped), StatusCode,
	// ActiveProfileID and the timings. ServerTotalMS defaults to the time
	// since the frame arrived. Counts, tile index and payload bitmap are
	// derived from Tiles, Sections and Typed.
	Meta wire.ResultPush
	// Tiles are the result's tile ids (DENSE_RANGE or RAW_U16).
	Tiles wire.TileSpec
	// Sections hold per-tile payload slices; they are written without being
	// copied and must stay unmodified until SendResult returns.
	Sections []wire.SectionData
	// Typed are typed payload frames (token chunks, events, ...).
	Typed []wire.TypedPayload
	// Opaque, when non-nil, is sent as the whole body instead of a
	// structured one (the metadata must then be non-tensor). Reference
	// clients treat result bodies as opaque bytes (D§8.3).
	Opaque []byte
	// HeaderFlags are the header flag bits (CAN_DROP, STALE, ...).
	HeaderFlags wire.Flags
	// Correlation, when set, replaces the view_id, route_id and trace_id the
	// result otherwise echoes from the submit.
	Correlation *Correlation
	// LegacyRaw writes the prelude-less tensor body (D§5.9) for clients
	// that need it.
	LegacyRaw bool
}

// Correlation are a packet header's free correlation fields (D§1).
type Correlation struct {
	ViewID  uint16
	RouteID uint16
	TraceID uint64
}

var builders = sync.Pool{New: func() any { return new(wire.ResultBuilder) }}

// SendResult answers sub with a RESULT_PUSH and waits until it is written.
// The result must respect the frame's budget policy (the class's bit and
// applied_budget_policy ⊆ the submit's budget_policy, D§8.2 R6). It returns
// ErrNotInFlight if the frame already has its answer (the result is
// discarded), or the validation error (nothing is sent; the frame stays in
// flight and still needs an answer).
func (s *Session) SendResult(ctx context.Context, sub *Submit, r *Result) error {
	reply := make(chan error, 1)
	if err := s.SendResultAsync(ctx, sub, r, func(err error) { reply <- err }); err != nil {
		return err
	}
	return <-reply
}

// SendResultAsync is SendResult without the wait: it returns once the
// result is validated and handed to the connection, and done is called
// exactly once — with nil after the result was written, or with the reason
// it was not (ErrNotInFlight, a policy violation, the connection's end).
// r's sections must stay unmodified until done is called (that is when a
// staging buffer may be reused). When it returns an error, done is not
// called. done must not block.
func (s *Session) SendResultAsync(ctx context.Context, sub *Submit, r *Result, done func(error)) error {
	m := r.Meta
	if m.ServerTotalMS == 0 {
		m.ServerTotalMS = clampMS(time.Since(sub.Arrived))
	}
	h := wire.Header{Flags: r.HeaderFlags, SessionID: s.info.ID, FrameID: sub.Header.FrameID,
		ViewID: sub.Header.ViewID, RouteID: sub.Header.RouteID, TraceID: sub.Header.TraceID}
	if c := r.Correlation; c != nil {
		h.ViewID, h.RouteID, h.TraceID = c.ViewID, c.RouteID, c.TraceID
	}
	b := builders.Get().(*wire.ResultBuilder)
	var segs [][]byte
	var err error
	if r.Opaque != nil {
		segs, err = opaqueResult(h, m, r.Opaque)
	} else {
		b.LegacyRaw = r.LegacyRaw
		segs, err = b.Build(h, m, r.Tiles, r.Sections, r.Typed)
	}
	if err != nil {
		builders.Put(b)
		return err
	}
	err = s.conn.post(ctx, command{kind: cmdTerminal, sess: s, frameID: sub.Header.FrameID, segs: segs,
		isResult: true, result: m, builder: b, done: done})
	if err != nil {
		builders.Put(b)
	}
	return err
}

// opaqueResult frames an opaque-body result: header and metadata in a small
// buffer, the body a separate segment (not copied).
func opaqueResult(h wire.Header, m wire.ResultPush, body []byte) ([][]byte, error) {
	if m.IsTensor() {
		return nil, fmt.Errorf("server: an opaque result body needs non-tensor metadata (payload_kind_bitmap 0x%x)", uint32(m.PayloadKindBitmap))
	}
	if uint64(len(body)) > wire.DefaultMaxPacket {
		return nil, fmt.Errorf("server: result body of %d bytes exceeds the packet limit", len(body))
	}
	h.Type, h.MetaLen, h.BodyLen = wire.TypeResultPush, uint32(m.Len()), uint32(len(body))
	head, err := h.Append(make([]byte, 0, wire.HeaderLen+m.Len()))
	if err != nil {
		return nil, err
	}
	if head, err = m.Append(head); err != nil {
		return nil, err
	}
	return [][]byte{head, body}, nil
}

func clampMS(d time.Duration) uint16 {
	ms := d.Milliseconds()
	if ms > 0xFFFF {
		return 0xFFFF
	}
	if ms < 0 {
		return 0
	}
	return uint16(ms)
}

// SendResultDrop answers sub with a drop: RESULT_DROP_REASON with reason and
// diagnostic, or the header-only RESULT_DROP when reason is 0 (D§9.1). It
// waits until the drop is written; ErrNotInFlight if sub already had its
// answer.
func (s *Session) SendResultDrop(ctx context.Context, sub *Submit, reason wire.DropReason, diag string) error {
	h := wire.Header{SessionID: s.info.ID, FrameID: sub.Header.FrameID,
		ViewID: sub.Header.ViewID, RouteID: sub.Header.RouteID, TraceID: sub.Header.TraceID}
	var pkt []byte
	var err error
	if reason == 0 {
		h.Type = wire.TypeResultDrop
		pkt, err = wire.AppendPacket(nil, h, nil)
	} else {
		m := wire.ResultDropReason{OperationID: sub.Meta.OperationID, Reason: reason, SourceRole: wire.RoleServer,
			Flags: wire.ResultDropFinal, DiagnosticBytes: uint32(len(diag))}
		pkt, err = wire.AppendPacket(nil, h, &m, []byte(diag))
	}
	if err != nil {
		return err
	}
	return s.conn.call(ctx, command{kind: cmdTerminal, sess: s, frameID: sub.Header.FrameID, segs: [][]byte{pkt},
		drop: reason})
}

// sendPacket sends a non-terminal packet of the session; frameID != 0 makes
// it part of that frame's operation, which must still be in flight.
func (s *Session) sendPacket(ctx context.Context, frameID uint32, m wire.Message, body ...[]byte) error {
	pkt, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID, FrameID: frameID}, m, body...)
	if err != nil {
		return err
	}
	return s.conn.call(ctx, command{kind: cmdPacket, sess: s, frameID: frameID, segs: [][]byte{pkt}})
}

// SendResultHint sends RESULT_HINT (C§6.2) about frameID (0: the session);
// the frame need not be in flight.
func (s *Session) SendResultHint(ctx context.Context, frameID uint32, hint wire.ResultHint) error {
	pkt, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID, FrameID: frameID}, &hint)
	if err != nil {
		return err
	}
	return s.conn.call(ctx, command{kind: cmdPacket, sess: s, segs: [][]byte{pkt}})
}

// SendFlowUpdate sends a session- or operation-scoped FLOW_UPDATE (C§6.1;
// connection scope cannot be delivered to the reference client).
func (s *Session) SendFlowUpdate(ctx context.Context, m wire.FlowUpdate) error {
	if err := m.CheckHeader(&wire.Header{SessionID: s.info.ID}); err != nil {
		return err
	}
	return s.sendPacket(ctx, 0, &m)
}

// SendCreditUpdate sends CREDIT_UPDATE (C§6.3).
func (s *Session) SendCreditUpdate(ctx context.Context, m wire.CreditUpdate) error {
	return s.sendPacket(ctx, 0, &m)
}

// SendProgress sends PROGRESS for a frame in flight (C§7.4); it must precede
// the frame's answer.
func (s *Session) SendProgress(ctx context.Context, sub *Submit, m wire.Progress, body []byte) error {
	m.OperationID, m.BodyBytes = sub.Meta.OperationID, uint32(len(body))
	return s.sendPacket(ctx, sub.Header.FrameID, &m, body)
}

// SendPartialResult sends PARTIAL_RESULT for a frame in flight (C§7.4).
func (s *Session) SendPartialResult(ctx context.Context, sub *Submit, m wire.PartialResult, body []byte) error {
	m.OperationID, m.BodyBytes = sub.Meta.OperationID, uint32(len(body))
	return s.sendPacket(ctx, sub.Header.FrameID, &m, body)
}
