package server

import (
	"context"
	"fmt"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Schemas accepted at SESSION_OPEN (ERRATA.md 4): none, and the token delta
// schema the official clients send by default.
const (
	tokenSchemaID      = 0x1001
	tokenSchemaVersion = 3
	// leaseTTL is the default lease advertised (the reference's value).
	leaseTTL = 30 * time.Second
)

func schemaAccepted(id, version uint32) bool {
	return (id == 0 && version == 0) || (id == tokenSchemaID && version == tokenSchemaVersion)
}

// handleSessionOpen runs the admission algorithm of C§4.4 plus this
// server's limits and policy, and answers SESSION_OPEN_ACK.
func (c *conn) handleSessionOpen(p *wire.Packet) {
	open, err := wire.Decode(p, wire.ParseSessionOpen)
	if err != nil {
		c.srv.stats.SessionsRejected.Add(1)
		code, diag := protocolError(err)
		c.sendError(code, wire.ScopeConnection, false, 0, 0, diag)
		return
	}
	token, sessAuth, ext, err := open.SplitBody(p.Body)
	if err != nil {
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionResumeRejected, err.Error())
		return
	}
	if err := open.CheckResumeShape(); err != nil {
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionResumeRejected, err.Error())
		return
	}
	if c.srv.isDraining() {
		c.rejectOpen(&open, wire.SessionRetryLater, wire.SessionLimitReached, "server is shutting down")
		return
	}
	p0 := &c.srv.profile
	switch {
	case open.ProfileID != wire.ProfileTensor && open.ProfileID != wire.ProfileToken:
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionProfileUnsupported,
			fmt.Sprintf("profile %d is not supported (tensor 1, token 2)", open.ProfileID))
		return
	case c.hello.Hello.SupportedProfileBitmap&open.ProfileID.Bit() == 0:
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionProfileUnsupported,
			fmt.Sprintf("profile %d was not offered in CLIENT_HELLO", open.ProfileID))
		return
	case !schemaAccepted(open.SchemaID, open.SchemaVersion):
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionSchemaUnsupported,
			fmt.Sprintf("schema 0x%x v%d is not installed (accepted: none, or 0x1001 v3)", open.SchemaID, open.SchemaVersion))
		return
	case open.MaxInFlightOperations > p0.MaxConcurrentFrames:
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionLimitReached,
			fmt.Sprintf("%d operations in flight requested; this server allows %d per session", open.MaxInFlightOperations, p0.MaxConcurrentFrames))
		return
	case len(c.sessions) >= p0.MaxSessionsPerConn:
		c.rejectOpen(&open, wire.SessionRejected, wire.SessionLimitReached,
			fmt.Sprintf("this connection already has %d sessions (the limit)", len(c.sessions)))
		return
	}
	identity := c.identity
	if len(sessAuth) > 0 && c.srv.opts.Auth != nil {
		hc := *c.hello
		hc.Auth = sessAuth
		ctx, cancel := context.WithTimeout(c.ctx, p0.HandshakeTimeout)
		id, err := c.srv.opts.Auth.ValidateHello(ctx, &hc)
		cancel()
		if err != nil {
			c.srv.stats.AuthRejected.Add(1)
			c.rejectOpen(&open, wire.SessionRejected, wire.SessionAuthFailed, "session authentication failed")
			return
		}
		identity = id
	}
	granted := open.MaxInFlightOperations
	if granted == 0 {
		granted = p0.MaxConcurrentFrames
	}
	info := SessionInfo{
		Profile: open.ProfileID, SchemaID: open.SchemaID, SchemaVersion: open.SchemaVersion,
		Priority: open.PriorityClass, Flags: open.Flags,
		DefaultDeadline: time.Duration(open.DefaultDeadlineMS) * time.Millisecond,
		MaxInFlight:     granted, Identity: identity, Hello: c.hello, RouteID: p.Header.RouteID,
		Extensions: wire.ControlExtensions(copyBytes(ext)),
	}
	var id uint32
	status := wire.SessionOpened
	if len(token) > 0 {
		if _, ok := c.srv.reg.resume(open.RequestedSessionID, token); !ok {
			c.rejectOpen(&open, wire.SessionRejected, wire.SessionResumeRejected,
				fmt.Sprintf("session %d cannot be resumed (unknown, expired, active elsewhere or wrong token)", open.RequestedSessionID))
			return
		}
		id, status, info.Resumed = open.RequestedSessionID, wire.SessionResumed, true
		c.srv.stats.SessionsResumed.Add(1)
	} else {
		var ok bool
		if id, ok = c.srv.reg.allocate(open.RequestedSessionID); !ok {
			c.rejectOpen(&open, wire.SessionRejected, wire.SessionLimitReached,
				fmt.Sprintf("session id %d is in use", open.RequestedSessionID))
			return
		}
	}
	info.ID = id
	decision := SessionDecision{}
	if policy := c.srv.opts.OpenSession; policy != nil {
		decision = policy(&SessionRequest{Open: open, Info: info})
		if decision.Reject != 0 {
			c.srv.reg.release(id, nil)
			c.rejectOpen(&open, wire.SessionRejected, decision.Reject, decision.Diagnostic)
			return
		}
	}
	s := c.newSession(info, decision.Model)
	ackFlags := wire.SessionAckFlags(0)
	if open.Flags&wire.SessionAllowResume != 0 && p0.ResumeTokenBytes > 0 {
		s.resumeToken = newToken(p0.ResumeTokenBytes)
		ackFlags |= wire.SessionResumeEnabled
	}
	select {
	case c.srv.accepted <- s:
	default:
		c.srv.reg.release(id, nil)
		s.cancel(ErrSessionClosed)
		c.rejectOpen(&open, wire.SessionRetryLater, wire.SessionLimitReached,
			"too many sessions waiting to be accepted; retry later")
		return
	}
	c.sessions[id] = s
	c.srv.stats.SessionsOpened.Add(1)
	ack := wire.SessionOpenAck{
		SessionID: id, AcceptedProfileID: open.ProfileID, AcceptedPriorityClass: open.PriorityClass,
		Status: status, SchemaID: open.SchemaID, SchemaVersion: open.SchemaVersion,
		GrantedOperationCredit: min(granted, p0.InFlightCredit), MaxInFlightOperations: granted,
		LeaseTTLMS: uint32(leaseTTL / time.Millisecond), ResumeTokenBytes: uint32(len(s.resumeToken)),
		ServerSessionTag: uint64(id), Flags: ackFlags,
	}
	if ackFlags&wire.SessionResumeEnabled != 0 {
		ack.ResumeWindowMS = uint32(p0.ResumeWindow / time.Millisecond)
	}
	// The header carries the new id too (C§4.3, ERRATA.md 5).
	b, err := wire.AppendPacket(nil, wire.Header{SessionID: id}, &ack, s.resumeToken)
	if err != nil {
		c.log.Error("nnrp: building SESSION_OPEN_ACK failed", "err", err)
		return
	}
	c.send(b)
}

// rejectOpen answers a refused SESSION_OPEN: session id 0 in metadata and
// header, the request echoed, the diagnostic as the extension text (C§4.4).
func (c *conn) rejectOpen(open *wire.SessionOpen, status wire.SessionStatus, code wire.ErrorCode, diag string) {
	c.srv.stats.SessionsRejected.Add(1)
	if len(diag) > 1024 {
		diag = diag[:1024]
	}
	p0 := &c.srv.profile
	ack := wire.SessionOpenAck{
		AcceptedProfileID: open.ProfileID, AcceptedPriorityClass: open.PriorityClass, Status: status,
		SchemaID: open.SchemaID, SchemaVersion: open.SchemaVersion,
		GrantedOperationCredit: p0.InFlightCredit, MaxInFlightOperations: p0.MaxConcurrentFrames,
		LeaseTTLMS: uint32(leaseTTL / time.Millisecond), SessionExtensionBytes: uint32(len(diag)),
		SessionErrorCode: code,
	}
	b, err := wire.AppendPacket(nil, wire.Header{}, &ack, []byte(diag))
	if err != nil {
		c.log.Error("nnrp: building SESSION_OPEN_ACK failed", "err", err)
		return
	}
	c.log.Debug("nnrp session rejected", "code", code, "reason", diag)
	c.send(b)
}

func (c *conn) newSession(info SessionInfo, model string) *Session {
	ctx, cancel := context.WithCancelCause(c.ctx)
	s := &Session{
		info: info, conn: c, queue: make(chan *Submit, info.MaxInFlight),
		ctx: ctx, cancel: cancel,
		ops: map[uint32]*op{}, opFrames: map[uint64]uint32{}, reservations: map[uint64]reservation{},
	}
	s.SetModel(model)
	if c.srv.profile.EnableCache {
		s.cache = newObjectCache(c.srv.profile.CacheBytes)
	}
	return s
}

// endSession ends a session whose connection is going away or that the
// client closed: operations end without wire answers (the client can no
// longer receive them, or closed the session), the id is freed or kept for
// resumption.
func (c *conn) endSession(s *Session, cause error, connGone bool) {
	for _, o := range s.ops {
		c.endOp(s, o, cause, true)
	}
	s.cancel(cause)
	var rec *resumeRecord
	if connGone && s.resumeToken != nil && s.state == sessionOpen {
		rec = &resumeRecord{token: s.resumeToken, expires: time.Now().Add(c.srv.profile.ResumeWindow), info: s.info}
	}
	c.srv.reg.release(s.info.ID, rec)
	c.srv.stats.SessionsClosed.Add(1)
}

// handleSessionClose answers SESSION_CLOSE (C§4.5). The ack must be the
// next packet of the session, so frames still in flight either finish
// within the requested drain window (their answers precede the ack) or end
// without an answer.
func (c *conn) handleSessionClose(s *Session, p *wire.Packet) {
	req, err := wire.Decode(p, wire.ParseSessionClose)
	if err != nil {
		code, diag := protocolError(err)
		c.sendError(code, wire.ScopeSession, false, s.info.ID, 0, diag)
		return
	}
	if s.state == sessionClosing {
		c.sendError(wire.CodeInvalidState, wire.ScopeSession, false, s.info.ID, 0, "session is already closing")
		return
	}
	if req.InFlightPolicy == wire.InFlightDrain && req.DrainTimeoutMS > 0 && len(s.ops) > 0 && s.state == sessionOpen {
		until := time.Now().Add(time.Duration(req.DrainTimeoutMS) * time.Millisecond)
		s.state = sessionClosing
		s.closeReq = &pendingClose{req: req, until: until}
		s.closeTimer = timerEntry{sess: s}
		c.setTimer(&s.closeTimer, until)
		return
	}
	c.finishClose(s, req)
}

func (c *conn) finishClose(s *Session, req wire.SessionClose) {
	delete(c.sessions, s.info.ID)
	c.clearTimer(&s.closeTimer)
	s.state = sessionClosing
	for _, o := range s.ops {
		c.endOp(s, o, ErrSessionClosed, true)
	}
	s.cancel(ErrSessionClosed)
	c.srv.reg.release(s.info.ID, nil)
	c.srv.stats.SessionsClosed.Add(1)
	ack := wire.SessionCloseAck{Status: wire.CloseStatusClosed, LastOperationID: req.LastOperationID}
	b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID}, &ack)
	if err != nil {
		c.log.Error("nnrp: building SESSION_CLOSE_ACK failed", "err", err)
		return
	}
	c.send(b)
}
