package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/link"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// errAnswered is the cause of a submit's context once the application
// answered it.
var errAnswered = errors.New("server: frame answered")

// handleSubmit admits a FRAME_SUBMIT as an operation. It reports whether the
// packet buffer now belongs to the Submit. Once an operation exists it gets
// exactly one terminal answer.
func (c *conn) handleSubmit(s *Session, it inbound) bool {
	h := &it.pkt.P.Header
	if it.metaErr != nil {
		c.srv.stats.FramesRejected.Add(1)
		code, diag := protocolError(it.metaErr)
		c.sendError(code, wire.ScopeFrame, false, s.info.ID, h.FrameID, diag)
		return false
	}
	sub := it.sub
	opID := sub.Meta.OperationID
	reject := func(diag string) bool {
		c.srv.stats.FramesRejected.Add(1)
		c.sendError(wire.CodeInvalidState, wire.ScopeFrame, false, s.info.ID, h.FrameID, diag)
		sub.Release()
		return true
	}
	switch {
	case h.FrameID == 0:
		return reject("frame_id 0 is not valid for FRAME_SUBMIT")
	case s.ops[h.FrameID] != nil || s.seenFrames.has(h.FrameID):
		return reject(fmt.Sprintf("frame_id %d was already used in this session", h.FrameID))
	case s.opFrames[opID] != 0 || s.seenOps.has(opID):
		return reject(fmt.Sprintf("operation_id %d was already used in this session", opID))
	case s.state == sessionClosing:
		return reject("session is closing: no new operations")
	}
	s.seenFrames.add(h.FrameID)
	s.seenOps.add(opID)
	o := &sub.op
	*o = op{sub: sub, frameID: h.FrameID, opID: opID}
	o.timer = timerEntry{sess: s, op: o}
	sub.session = s
	sub.priority.Store(int32(s.info.Priority))
	sub.model = s.Model()
	s.ops[h.FrameID] = o
	s.opFrames[opID] = h.FrameID
	c.inFlight++
	c.srv.opStarted()
	c.srv.stats.FramesReceived.Add(1)

	if r, ok := s.reservations[opID]; ok {
		delete(s.reservations, opID)
		if r.frameID == h.FrameID {
			o.deadline, o.expireAt, o.expFlags = r.deadline, r.expireAt, r.flags
		}
	}
	budget := time.Duration(sub.Meta.LatencyBudgetMS) * time.Millisecond
	if budget == 0 {
		budget = s.info.DefaultDeadline
	}
	if budget == 0 {
		budget = c.srv.profile.DefaultBudget
	}
	if budget > 0 {
		o.budget = sub.Arrived.Add(budget)
	}
	o.publishDeadline()

	switch {
	case s.state == sessionTombstone:
		c.terminalDrop(s, o, wire.DropTransportClosed, wire.ResultDropFinal, "session was closed by the server", ErrSessionClosed)
	case c.srv.isDraining():
		c.terminalDrop(s, o, wire.DropTransportClosed, wire.ResultDropFinal|wire.ResultDropRetryable, "server is shutting down", ErrShuttingDown)
	case len(s.ops) > int(s.info.MaxInFlight):
		// Tell the client why before the drop (C§6.4 step 3): it keeps its
		// window full regardless of credits.
		hint := wire.ResultHint{AppliedBudgetPolicy: wire.HintPolicyDrop, CongestionState: wire.CongestionSaturated,
			Reason: wire.HintReasonQueueFull}
		if b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID, FrameID: h.FrameID}, &hint); err == nil {
			c.send(b)
		}
		c.terminalDrop(s, o, wire.DropBackpressure, wire.ResultDropFinal|wire.ResultDropRetryable,
			fmt.Sprintf("more than %d frames in flight in this session", s.info.MaxInFlight), ErrCancelled)
	case it.subErr != nil:
		c.terminalDrop(s, o, wire.DropCapabilityMismatch, wire.ResultDropFinal, "malformed frame body: "+it.subErr.Error(), it.subErr)
	case sub.HasView && sub.View.Pending() != 0 && !c.resolveReferences(s, o):
		// answered by resolveReferences
	default:
		if c.checkDeadline(s, o, time.Now()) {
			return true // already expired (e.g. EXPIRE_AT before the submit)
		}
		c.armDeadlines(s, o)
		s.enqueue(sub)
	}
	return true
}

// enqueue hands an admitted frame to ReceiveSubmit without ever blocking
// the owner. The queue's capacity (MaxInFlight) bounds the live operations,
// but frames the engine answered before the application received them still
// occupy slots; when the queue is full those are taken out (the live ones
// go back in order).
func (s *Session) enqueue(sub *Submit) {
	select {
	case s.queue <- sub:
		return
	default:
	}
	var live []*Submit
	for len(live) < cap(s.queue) {
		select {
		case q := <-s.queue:
			if !q.ended() {
				live = append(live, q)
			}
			continue
		default:
		}
		break
	}
	live = append(live, sub)
	for _, q := range live {
		s.queue <- q // fits: at most MaxInFlight live operations
	}
}

// resolveReferences resolves a submit's referenced standard objects from
// the session cache. An unknown object is answered as D§11.5 recommends:
// CACHE_MISS echoing the identity, then RESULT_DROP_REASON
// object_invalidated. It reports whether the operation is still live.
func (c *conn) resolveReferences(s *Session, o *op) bool {
	var r wire.ObjectReferenceResolver = noObjects{}
	if s.cache != nil {
		r = s.cache
	}
	err := o.sub.View.Resolve(r)
	if err == nil {
		return true
	}
	var miss *wire.ObjectReferenceMissError
	if errors.As(err, &miss) {
		m := wire.CacheMiss{CacheNamespace: miss.Ref.Namespace, ProfileID: s.info.Profile, Reason: wire.MissNotFound,
			CacheKeyHi: miss.Ref.KeyHi, CacheKeyLo: miss.Ref.KeyLo}
		if b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID}, &m); err == nil {
			c.send(b)
		}
		c.terminalDrop(s, o, wire.DropObjectInvalidated, wire.ResultDropFinal|wire.ResultDropRetryable,
			"referenced object not in the session cache; resend it inline: "+miss.Error(), err)
		return false
	}
	c.terminalDrop(s, o, wire.DropCapabilityMismatch, wire.ResultDropFinal, "malformed referenced object: "+err.Error(), err)
	return false
}

type noObjects struct{}

func (noObjects) ResolveObjectReference(wire.ObjectReference) ([]byte, bool) { return nil, false }

// armDeadlines schedules the operation's next deadline check: the earliest
// of budget and DEADLINE (each plus the grace) and a discarding EXPIRE_AT.
func (c *conn) armDeadlines(s *Session, o *op) {
	grace := c.srv.profile.DeadlineGrace
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if !o.budget.IsZero() {
		consider(o.budget.Add(grace))
	}
	if !o.deadline.IsZero() {
		consider(o.deadline.Add(grace))
	}
	if o.expFlags&wire.ScheduleDiscardStale != 0 {
		consider(o.expireAt)
	}
	if next.IsZero() {
		c.clearTimer(&o.timer)
		return
	}
	c.setTimer(&o.timer, next)
}

// checkClose finishes a drained SESSION_CLOSE whose window has passed.
func (c *conn) checkClose(s *Session, now time.Time) {
	if s.closeReq != nil && !now.Before(s.closeReq.until) {
		req := s.closeReq.req
		s.closeReq = nil
		c.finishClose(s, req)
	}
}

// checkDeadline answers an operation whose time is up and reports whether
// it did.
func (c *conn) checkDeadline(s *Session, o *op, now time.Time) bool {
	if s.ops[o.frameID] != o {
		return true // already answered
	}
	if !o.expireAt.IsZero() && o.expFlags&wire.ScheduleDiscardStale != 0 && !now.Before(o.expireAt) {
		// The client declared results after EXPIRE_AT stale: the operation
		// is superseded (the wire suite expects drop reason 2, C§9.2 S3).
		if o.expFlags&wire.ScheduleEmitDropReason != 0 {
			c.terminalDrop(s, o, wire.DropSuperseded, wire.ResultDropFinal, "expired (EXPIRE_AT)", ErrExpired)
		} else {
			c.plainDrop(s, o, ErrExpired)
		}
		return true
	}
	grace := c.srv.profile.DeadlineGrace
	for _, d := range []time.Time{o.budget, o.deadline} {
		if !d.IsZero() && !now.Before(d.Add(grace)) {
			c.terminalDrop(s, o, wire.DropDeadlineExpired, wire.ResultDropFinal,
				fmt.Sprintf("no answer within the frame's deadline (+%v grace)", grace), ErrExpired)
			return true
		}
	}
	return false
}

// endOp removes an operation after its terminal answer (or silently, when
// the session or connection is gone). release frees the receive buffer now;
// otherwise the caller frees it after the answer was written (the answer
// may alias it).
func (c *conn) endOp(s *Session, o *op, cause error, release bool) {
	if s.ops[o.frameID] != o {
		return
	}
	delete(s.ops, o.frameID)
	delete(s.opFrames, o.opID)
	c.clearTimer(&o.timer)
	c.inFlight--
	c.srv.opEnded()
	o.sub.end(cause)
	if release {
		o.sub.Release()
	}
	if s.state == sessionClosing && len(s.ops) == 0 && s.closeReq != nil {
		req := s.closeReq.req
		s.closeReq = nil
		c.finishClose(s, req)
	}
}

// resultHeader is the header of an answer to o: session, frame and the
// submit's correlation fields echoed (D§1).
func resultHeader(s *Session, o *op) wire.Header {
	h := &o.sub.Header
	return wire.Header{SessionID: s.info.ID, FrameID: o.frameID, ViewID: h.ViewID, RouteID: h.RouteID, TraceID: h.TraceID}
}

// terminalDrop answers o with RESULT_DROP_REASON and ends it.
func (c *conn) terminalDrop(s *Session, o *op, reason wire.DropReason, flags wire.ResultDropFlags, diag string, cause error) {
	if len(diag) > 512 {
		diag = diag[:512]
	}
	m := wire.ResultDropReason{OperationID: o.opID, ResultSequence: o.seq, Reason: reason,
		SourceRole: wire.RoleServer, Flags: flags, DiagnosticBytes: uint32(len(diag))}
	b, err := wire.AppendPacket(nil, resultHeader(s, o), &m, []byte(diag))
	if err != nil {
		c.log.Error("nnrp: building RESULT_DROP_REASON failed", "err", err)
	} else {
		c.send(b)
		c.srv.stats.countDrop(reason)
	}
	c.endOp(s, o, cause, true)
}

// plainDrop answers o with the header-only RESULT_DROP and ends it.
func (c *conn) plainDrop(s *Session, o *op, cause error) {
	h := resultHeader(s, o)
	h.Type = wire.TypeResultDrop
	b, err := wire.AppendPacket(nil, h, nil)
	if err == nil {
		c.send(b)
		c.srv.stats.DropsSent[0].Add(1)
	}
	c.endOp(s, o, cause, true)
}

// cancelOp answers a client cancel the way the wire suite expects (C§9.2
// S1): a session-scoped TRACE_CONTEXT (frame_id 0), then
// RESULT_DROP_REASON peer_cancelled.
func (c *conn) cancelOp(s *Session, o *op, seq uint64, what string) {
	if seq != 0 {
		o.seq = seq
	}
	trace := o.sub.Header.TraceID
	if trace == 0 {
		trace = o.opID
	}
	tc := wire.TraceContext{TraceID: trace, SpanID: o.opID, Stage: wire.StageDropped}
	if b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID, TraceID: o.sub.Header.TraceID}, &tc); err == nil {
		c.send(b)
	}
	c.terminalDrop(s, o, wire.DropPeerCancelled, wire.ResultDropFinal, "cancelled by the client ("+what+")", ErrCancelled)
}

// dropAll answers every operation of the connection (shutdown).
func (c *conn) dropAll(reason wire.DropReason, cause error, diag string) {
	for _, s := range c.sessions {
		for _, o := range s.ops {
			c.terminalDrop(s, o, reason, wire.ResultDropFinal|wire.ResultDropRetryable, diag, cause)
		}
	}
}

// execute runs an application command on the owner goroutine.
func (c *conn) execute(cmd command) {
	s := cmd.sess
	if c.sessions[s.info.ID] != s {
		cmd.done(ErrSessionClosed)
		return
	}
	switch cmd.kind {
	case cmdTerminal:
		o := s.ops[cmd.frameID]
		fail := func(err error) {
			if cmd.builder != nil {
				builders.Put(cmd.builder)
			}
			cmd.done(err)
		}
		if o == nil {
			c.srv.stats.LateAnswers.Add(1)
			fail(ErrNotInFlight)
			return
		}
		if cmd.isResult {
			if err := cmd.result.CheckPolicy(o.sub.Meta.BudgetPolicy); err != nil {
				fail(err)
				return
			}
		}
		sub, done, b := o.sub, cmd.done, cmd.builder
		if err := c.w.Enqueue(link.Outbound{Segs: cmd.segs, Done: func(err error) {
			sub.Release() // the answer may alias the receive buffer
			if b != nil {
				builders.Put(b) // its segments are no longer referenced
			}
			done(err)
		}}); err != nil {
			fail(err)
			return
		}
		switch st := &c.srv.stats; {
		case cmd.isResult:
			if int(cmd.result.Class) < len(st.ResultsSent) {
				st.ResultsSent[cmd.result.Class].Add(1)
			}
		case cmd.drop == 0:
			st.DropsSent[0].Add(1)
		default:
			st.countDrop(cmd.drop)
		}
		c.endOp(s, o, errAnswered, false)
	case cmdPacket:
		if cmd.frameID != 0 && s.ops[cmd.frameID] == nil {
			cmd.done(ErrNotInFlight)
			return
		}
		if err := c.w.Enqueue(link.Outbound{Segs: cmd.segs, Done: cmd.done}); err != nil {
			cmd.done(err)
		}
	case cmdCloseSession:
		if s.state == sessionOpen {
			for _, o := range s.ops {
				c.terminalDrop(s, o, wire.DropTransportClosed, wire.ResultDropFinal, "session closed by the server", ErrSessionClosed)
			}
			s.state = sessionTombstone
		}
		cmd.done(nil)
	}
}
