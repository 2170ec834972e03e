package server

import (
	"fmt"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// handleSessionPacket processes every session-scoped packet except
// FRAME_SUBMIT (C§4.6 list, C§7). Malformed or out-of-state packets get a
// non-fatal ERROR and the session continues.
func (c *conn) handleSessionPacket(s *Session, p *wire.Packet) {
	h := &p.Header
	bad := func(err error) {
		code, diag := protocolError(err)
		c.sendError(code, wire.ScopeSession, false, s.info.ID, h.FrameID, diag)
	}
	switch h.Type {
	case wire.TypeFrameCancel:
		if err := p.CheckHeaderOnly(); err != nil {
			bad(err)
			return
		}
		if o := s.ops[h.FrameID]; o != nil {
			c.cancelOp(s, o, 0, "FRAME_CANCEL")
		} else if !s.seenFrames.has(h.FrameID) {
			c.unknownFrame(s, h.FrameID)
		} // else: already answered; cancelling it is a no-op
	case wire.TypeCancel, wire.TypeAbort:
		var m wire.Cancel
		var err error
		if h.Type == wire.TypeCancel {
			m, err = wire.Decode(p, wire.ParseCancel)
		} else {
			var a wire.Abort
			a, err = wire.Decode(p, wire.ParseAbort)
			m = wire.Cancel(a)
		}
		if err != nil {
			bad(err)
			return
		}
		c.handleCancel(s, h, m, h.Type == wire.TypeAbort)
	case wire.TypePriorityUpdate:
		m, err := wire.Decode(p, wire.ParsePriorityUpdate)
		if err != nil {
			bad(err)
			return
		}
		if o := c.liveOp(s, h, m.OperationID); o != nil {
			o.seq = m.ControlSequence
			o.sub.priority.Store(int32(m.PriorityClass))
		}
	case wire.TypeDeadline:
		m, err := wire.Decode(p, wire.ParseDeadline)
		if err != nil {
			bad(err)
			return
		}
		c.handleSchedule(s, h, wire.PriorityUpdate(m), false)
	case wire.TypeExpireAt:
		m, err := wire.Decode(p, wire.ParseExpireAt)
		if err != nil {
			bad(err)
			return
		}
		c.handleSchedule(s, h, wire.PriorityUpdate(m), true)
	case wire.TypeSupersede:
		m, err := wire.Decode(p, wire.ParseSupersede)
		if err != nil {
			bad(err)
			return
		}
		if o := c.liveOp(s, h, m.OldOperationID); o != nil {
			o.seq = m.ControlSequence
			c.terminalDrop(s, o, wire.DropSuperseded, wire.ResultDropFinal,
				fmt.Sprintf("superseded by operation %d", m.NewOperationID), ErrCancelled)
		}
	case wire.TypeBudgetUpdate:
		m, err := wire.Decode(p, wire.ParseBudgetUpdate)
		if err != nil {
			bad(err)
			return
		}
		if m.OperationID != 0 {
			c.liveOp(s, h, m.OperationID)
		}
	case wire.TypeRouteHint, wire.TypeExecutionHint:
		var opID uint64
		var err error
		if h.Type == wire.TypeRouteHint {
			var m wire.RouteHint
			m, err = wire.Decode(p, wire.ParseRouteHint)
			opID = m.OperationID
		} else {
			var m wire.ExecutionHint
			m, err = wire.Decode(p, wire.ParseExecutionHint)
			opID = m.OperationID
		}
		if err != nil {
			bad(err)
			return
		}
		if opID != 0 {
			c.liveOp(s, h, opID)
		}
	case wire.TypeCacheReference:
		m, err := wire.Decode(p, wire.ParseCacheReference)
		if err != nil {
			bad(err)
			return
		}
		c.handleCacheReference(s, m)
	case wire.TypeCachePut:
		m, err := wire.Decode(p, wire.ParseCachePut)
		if err != nil {
			bad(err)
			return
		}
		c.handleCachePut(s, m, p.Body)
	case wire.TypeCacheInvalidate:
		m, err := wire.Decode(p, wire.ParseCacheInvalidate)
		if err != nil {
			bad(err)
			return
		}
		if s.cache != nil {
			s.cache.invalidate(m)
		}
	case wire.TypeSessionClose:
		c.handleSessionClose(s, p)
	case wire.TypeSessionPatch:
		c.handleSessionPatch(s, p)
	case wire.TypeSessionMigrate:
		m, err := wire.Decode(p, wire.ParseSessionMigrate)
		if err != nil {
			bad(err)
			return
		}
		// Migration on the same connection (the only kind the reference
		// implements, C§4.8): accepted, nothing to replay.
		ack := wire.SessionMigrateAck{ResumeFromFrameID: m.LastResultFrameID, ServerMigrateTSUS: uint64(time.Now().UnixMicro())}
		if b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID}, &ack); err == nil {
			c.send(b)
		}
	case wire.TypePing:
		if err := p.CheckHeaderOnly(); err != nil {
			bad(err)
			return
		}
		c.pong(h)
	case wire.TypePong:
	case wire.TypeError:
		if m, err := wire.Decode(p, wire.ParseErrorMessage); err == nil {
			c.log.Info("nnrp client reported an error", "session", s.info.ID, "code", m.Code, "diagnostic", string(p.Body))
		}
	default:
		// Messages the client may send that need no action: validate them
		// so malformed ones are reported.
		if err := decodeIgnored(p); err != nil {
			bad(err)
		}
	}
}

// decodeIgnored validates client messages the server accepts without acting
// on them, and rejects types a client must not send in a session.
func decodeIgnored(p *wire.Packet) error {
	var err error
	switch p.Header.Type {
	case wire.TypeFlowUpdate:
		var m wire.FlowUpdate
		if m, err = wire.Decode(p, wire.ParseFlowUpdate); err == nil {
			err = m.CheckHeader(&p.Header)
		}
	case wire.TypeBackpressure:
		_, err = wire.Decode(p, wire.ParseBackpressure)
	case wire.TypeCreditUpdate:
		_, err = wire.Decode(p, wire.ParseCreditUpdate)
	case wire.TypeCapabilityNegotiation:
		_, err = wire.Decode(p, wire.ParseCapabilityNegotiation)
	case wire.TypeDegradeProfile:
		_, err = wire.Decode(p, wire.ParseDegradeProfile)
	case wire.TypeTraceContext:
		_, err = wire.Decode(p, wire.ParseTraceContext)
	case wire.TypeProgress:
		_, err = wire.Decode(p, wire.ParseProgress)
	case wire.TypePartialResult:
		_, err = wire.Decode(p, wire.ParsePartialResult)
	case wire.TypeResultDropReason:
		_, err = wire.Decode(p, wire.ParseResultDropReason)
	case wire.TypeObjectDeclare:
		_, err = wire.Decode(p, wire.ParseObjectDeclare)
	case wire.TypeObjectRef:
		_, err = wire.Decode(p, wire.ParseObjectRef)
	case wire.TypeObjectRelease:
		_, err = wire.Decode(p, wire.ParseObjectRelease)
	case wire.TypeObjectPatch:
		_, err = wire.Decode(p, wire.ParseObjectPatch)
	case wire.TypeObjectDelta:
		_, err = wire.Decode(p, wire.ParseObjectDelta)
	case wire.TypeCacheMiss:
		_, err = wire.Decode(p, wire.ParseCacheMiss)
	case wire.TypeCacheAck:
		_, err = wire.Decode(p, wire.ParseCacheAck)
	case wire.TypeErrorRecoverable:
		_, err = wire.Decode(p, wire.ParseErrorRecoverable)
	case wire.TypeRetryAfter:
		_, err = wire.Decode(p, wire.ParseRetryAfter)
	default:
		return &wire.MessageError{Type: p.Header.Type, Code: wire.CodeInvalidState, Field: "message_type",
			Reason: p.Header.Type.String() + " is not something a client sends inside a session"}
	}
	return err
}

func (c *conn) unknownFrame(s *Session, frameID uint32) {
	c.sendError(wire.CodeInvalidState, wire.ScopeFrame, false, s.info.ID, frameID,
		fmt.Sprintf("frame %d is not an operation of this session", frameID))
}

// liveOp resolves an operation-scoped message to its live operation,
// checking the frame correlation of C§2.3. It answers ERROR invalid_state
// for an unknown operation or a mismatch and returns nil; an operation that
// already has its answer also yields nil, silently.
func (c *conn) liveOp(s *Session, h *wire.Header, opID uint64) *op {
	if opID == 0 {
		if h.FrameID != 0 {
			c.sendError(wire.CodeInvalidState, wire.ScopeSession, false, s.info.ID, h.FrameID,
				"a session-level control message (operation_id 0) must have frame_id 0")
		}
		return nil
	}
	frame, live := s.opFrames[opID]
	switch {
	case live && frame != h.FrameID:
		c.sendError(wire.CodeInvalidState, wire.ScopeFrame, false, s.info.ID, h.FrameID,
			fmt.Sprintf("operation %d belongs to frame %d, not %d", opID, frame, h.FrameID))
		return nil
	case live:
		return s.ops[frame]
	case s.seenOps.has(opID):
		return nil // terminal already
	}
	c.sendError(wire.CodeInvalidState, wire.ScopeFrame, false, s.info.ID, h.FrameID,
		fmt.Sprintf("unknown operation %d", opID))
	return nil
}

// handleCancel implements CANCEL and ABORT (C§7.2). operation_id 0 cancels
// every operation of the session.
func (c *conn) handleCancel(s *Session, h *wire.Header, m wire.Cancel, abort bool) {
	what := "CANCEL"
	if abort {
		what = "ABORT"
	}
	if m.OperationID == 0 {
		if h.FrameID != 0 {
			c.sendError(wire.CodeInvalidState, wire.ScopeSession, false, s.info.ID, h.FrameID,
				"session-level "+what+" (operation_id 0) must have frame_id 0")
			return
		}
		for _, o := range s.ops {
			c.cancelOp(s, o, m.ControlSequence, what)
		}
		return
	}
	if !s.seenOps.has(m.OperationID) || s.opFrames[m.OperationID] != 0 {
		if o := c.liveOp(s, h, m.OperationID); o != nil {
			c.cancelOp(s, o, m.ControlSequence, what)
		}
		return
	}
	// The operation already has its answer: CANCEL is a no-op, ABORT an
	// error (C§7.2).
	if abort {
		c.sendError(wire.CodeInvalidState, wire.ScopeFrame, false, s.info.ID, h.FrameID,
			fmt.Sprintf("operation %d already has its answer", m.OperationID))
	}
}

// handleSchedule applies DEADLINE and EXPIRE_AT, including the ones that
// arrive before their FRAME_SUBMIT (C§7.3, required by the wire suite).
func (c *conn) handleSchedule(s *Session, h *wire.Header, m wire.PriorityUpdate, expire bool) {
	at := time.UnixMilli(int64(m.DeadlineUnixMS))
	if _, live := s.opFrames[m.OperationID]; !live && !s.seenOps.has(m.OperationID) && m.OperationID != 0 &&
		h.FrameID != 0 && !s.seenFrames.has(h.FrameID) {
		if len(s.reservations) >= maxReservations {
			c.sendError(wire.CodeLimitExceeded, wire.ScopeFrame, false, s.info.ID, h.FrameID,
				fmt.Sprintf("more than %d scheduling messages for operations not yet submitted", maxReservations))
			return
		}
		r := s.reservations[m.OperationID]
		r.frameID, r.received = h.FrameID, time.Now()
		if expire {
			r.expireAt, r.flags = at, m.Flags
		} else {
			r.deadline = at
		}
		s.reservations[m.OperationID] = r
		return
	}
	o := c.liveOp(s, h, m.OperationID)
	if o == nil {
		return
	}
	o.seq = m.ControlSequence
	if expire {
		o.expireAt, o.expFlags = at, m.Flags
	} else {
		o.deadline = at
	}
	o.publishDeadline()
	if !c.checkDeadline(s, o, time.Now()) {
		c.armDeadlines(s, o)
	}
}

// handleSessionPatch answers SESSION_PATCH (C§4.7). Fields the policy does
// not take are rejected with unsupported_field.
func (c *conn) handleSessionPatch(s *Session, p *wire.Packet) {
	m, err := wire.Decode(p, wire.ParseSessionPatch)
	if err != nil {
		code, diag := protocolError(err)
		c.sendError(code, wire.ScopeSession, false, s.info.ID, 0, diag)
		return
	}
	d := PatchDecision{Rejected: m.Mask, Reason: wire.PatchRejectUnsupportedField}
	if policy := c.srv.opts.PatchSession; policy != nil {
		d = policy(&PatchRequest{Session: s, Patch: m, Body: p.Body, RouteID: p.Header.RouteID})
		d.Applied &= m.Mask
		d.Rejected = m.Mask &^ d.Applied
	}
	if d.Model != "" {
		s.SetModel(d.Model)
	}
	ack := wire.SessionPatchAck{AppliedMask: d.Applied, RejectedMask: d.Rejected, EffectiveProfileID: s.info.Profile}
	switch {
	case d.Rejected == 0:
		ack.Status = wire.PatchAccepted
	case d.Applied == 0:
		ack.Status, ack.RejectReason = wire.PatchRejected, d.Reason
	default:
		ack.Status, ack.RejectReason = wire.PatchPartiallyApplied, d.Reason
	}
	if ack.RejectReason == wire.PatchRejectNone && d.Rejected != 0 {
		ack.RejectReason = wire.PatchRejectUnsupportedField
	}
	if d.Applied&wire.PatchTargetCadence != 0 {
		ack.EffectiveTargetCadenceX100 = m.TargetCadenceX100
	}
	if d.Applied&wire.PatchQualityTier != 0 {
		ack.EffectiveQualityTier = m.QualityTier
	}
	if d.Applied&wire.PatchDegradePolicy != 0 {
		ack.EffectiveDegradePolicy = m.DegradePolicy
	}
	if d.Applied&wire.PatchActiveLaneMask != 0 {
		ack.EffectiveLaneMask = m.ActiveLaneMask
	}
	b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID}, &ack)
	if err != nil {
		c.log.Error("nnrp: building SESSION_PATCH_ACK failed", "err", err)
		return
	}
	c.send(b)
}
