package nnrpffi

/*
#include <stdlib.h>
#include "nnrpffi_abi.h"
*/
import "C"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ServerTLS configures a TLS (TCP) or QUIC listener. The ABI takes exactly one
// certificate: the server presents it alone (no intermediates), so a client
// must trust that certificate or its direct issuer. The official client
// requires an end-entity certificate (CA:FALSE) with a subjectAltName.
type ServerTLS struct {
	CertDER     []byte
	KeyPKCS8DER []byte
}

// ListenOptions configures Lib.Listen. Zero values take the defaults named.
type ListenOptions struct {
	// Endpoint is "tcp://host:port" or "quic://host:port"; port 0 picks a
	// free port (see Server.Endpoint).
	Endpoint string
	TLS      *ServerTLS // required for QUIC; makes TCP a TLS listener
	// MaxPacketBytes limits one packet; 0 means the library's 64 MiB.
	MaxPacketBytes uint64
	// Profiles the server accepts; nil means tensor and token.
	Profiles []wire.ProfileID
	// MaxInFlight is the per-session operation limit; a client asking for
	// more is rejected with wire.SessionLimitReached. 0 means 64.
	MaxInFlight uint16
	// GrantedCredit is the initial credit in SESSION_OPEN_ACK (the official
	// client ignores it); 0 means MaxInFlight.
	GrantedCredit uint16
	// ResumeTokenBytes is the resume token length; 0 disables resumption.
	ResumeTokenBytes uint32
	LeaseTTL         time.Duration // 0 means 30 s
	ResumeWindow     time.Duration // 0 means 120 s
	// ListenTimeout bounds the bind; 0 means the library's fixed 30 s.
	ListenTimeout time.Duration
}

// Server is an official-server listener bound to the server role. Sessions
// are accepted one at a time with Accept; the library serves each carrier
// connection's handshake and SESSION_OPENs in the background, but only while
// an Accept is pending.
type Server struct {
	lib       *Lib
	h         C.nf_handle
	endpoint  string
	transport Transport

	closing   chan struct{}
	closeOnce sync.Once
	acceptMu  sync.Mutex // one accept ticket per server at a time

	mu       sync.Mutex
	closed   bool
	sessions map[*ServerSession]struct{}
}

// Listen binds the official server: nnrp_transport_server_security_config_create
// (TLS only), nnrp_transport_listen, nnrp_transport_listener_endpoint, then
// nnrp_server_bind, which consumes the listener.
func (l *Lib) Listen(o ListenOptions) (*Server, error) {
	t, err := transportOf(o.Endpoint)
	if err != nil {
		return nil, err
	}
	if !l.caps.Supports(t) {
		return nil, fmt.Errorf("nnrp ffi: %s does not carry %s", l.path, t)
	}
	if t == TransportQUIC && o.TLS == nil {
		return nil, errors.New("nnrp ffi: quic:// needs TLS settings")
	}
	timeout, err := durationMs("listen timeout", o.ListenTimeout)
	if err != nil {
		return nil, err
	}
	lease, err := durationMs("lease TTL", defaultDuration(o.LeaseTTL, 30*time.Second))
	if err != nil {
		return nil, err
	}
	resume, err := durationMs("resume window", defaultDuration(o.ResumeWindow, 120*time.Second))
	if err != nil {
		return nil, err
	}
	profiles := o.Profiles
	if profiles == nil {
		profiles = []wire.ProfileID{wire.ProfileTensor, wire.ProfileToken}
	}
	if len(profiles) == 0 {
		return nil, errors.New("nnrp ffi: a server needs at least one profile")
	}
	maxInFlight := o.MaxInFlight
	if maxInFlight == 0 {
		maxInFlight = 64
	}
	credit := o.GrantedCredit
	if credit == 0 {
		credit = maxInFlight
	}
	if credit > maxInFlight {
		return nil, fmt.Errorf("nnrp ffi: granted credit %d exceeds the in-flight limit %d", credit, maxInFlight)
	}

	var config C.nf_handle
	if o.TLS != nil {
		if config, err = l.serverSecurityConfig(t, o.TLS); err != nil {
			return nil, err
		}
	}
	lh, err := l.openTransport(openListen, t, o.Endpoint, config, o.MaxPacketBytes, timeout)
	if err != nil {
		return nil, err
	}
	bound, err := l.listenerEndpoint(lh)
	if err != nil {
		return nil, errors.Join(err, l.closeTransportObject(lh))
	}

	prof := make([]byte, 2*len(profiles))
	for i, p := range profiles {
		binary.LittleEndian.PutUint16(prof[2*i:], uint16(p))
	}
	pbuf := newCBuf(prof)
	defer pbuf.free()
	breq := C.nf_bind_req{
		server_id:          C.uint64_t(newID()),
		generation:         generation,
		listener:           lh,
		profiles:           C.nf_u16s{ptr: (*C.uint16_t)(pbuf.p), len: C.uintptr_t(len(profiles))},
		resume_token_bytes: C.uint32_t(o.ResumeTokenBytes),
		max_in_flight:      C.uint16_t(maxInFlight),
		granted_credit:     C.uint16_t(credit),
		lease_ttl_ms:       lease,
		resume_window_ms:   resume,
		// schema_registry all-zero: the stock registry; policy all-zero:
		// every session that passes the built-in checks is accepted.
	}
	var sh C.nf_handle
	if err := statusError("nnrp_server_bind", C.nf_call_server_bind(l.api, breq, &sh)); err != nil {
		return nil, errors.Join(err, l.closeTransportObject(lh))
	}
	// The listener now belongs to the server: one native object either way.
	return &Server{
		lib:       l,
		h:         sh,
		endpoint:  bound,
		transport: t,
		closing:   make(chan struct{}),
		sessions:  map[*ServerSession]struct{}{},
	}, nil
}

func defaultDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (l *Lib) listenerEndpoint(lh C.nf_handle) (string, error) {
	var owner C.nf_handle
	var view C.nf_bytes
	// cgo wraps &view (a struct holding a pointer) in a pointer check whose
	// generated "0 == 0" gocritic reports.
	st := C.nf_call_transport_listener_endpoint(l.api, lh, &owner, &view) //nolint:gocritic // cgo-generated check
	if err := statusError("nnrp_transport_listener_endpoint", st); err != nil {
		return "", err
	}
	var s string
	if view.len > 0 && view.ptr != nil {
		s = C.GoStringN((*C.char)(unsafe.Pointer(view.ptr)), C.int(view.len))
	}
	if owner.kind == C.NF_KIND_BUFFER {
		if err := statusError("nnrp_buffer_release", C.nf_call_buffer_release(l.api, owner)); err != nil {
			return "", err
		}
	}
	if s == "" {
		return "", errors.New("nnrp ffi: listener reported an empty endpoint")
	}
	return s, nil
}

// Endpoint is the bound endpoint, e.g. "tcp://127.0.0.1:40123".
func (s *Server) Endpoint() string { return s.endpoint }

// Transport is the carrier of the listener.
func (s *Server) Transport() Transport { return s.transport }

// acceptPoll is how long one nnrp_server_accept_wait blocks before Accept
// looks at its context and at Close again.
const acceptPoll = 50 * time.Millisecond

// Accept waits for the next session a client opens (nnrp_server_accept_begin,
// then nnrp_server_accept_wait until ready, then nnrp_server_accept_claim).
// It returns ctx.Err() when ctx ends and ErrClosed when the server closes; the
// pending ticket is released (nnrp_server_accept_release) in both cases.
func (s *Server) Accept(ctx context.Context) (*ServerSession, error) {
	s.acceptMu.Lock()
	defer s.acceptMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	api := s.lib.api
	var ticket C.nf_handle
	breq := C.nf_accept_begin_req{server: s.h, accept_handle_id: C.uint64_t(newID()), generation: generation}
	if err := statusError("nnrp_server_accept_begin", C.nf_call_server_accept_begin(api, breq, &ticket)); err != nil {
		return nil, err
	}
	s.lib.live.Add(1)
	release := func(err error) error {
		if rerr := statusError("nnrp_server_accept_release", C.nf_call_server_accept_release(api, ticket)); rerr != nil {
			return errors.Join(err, rerr)
		}
		s.lib.live.Add(-1)
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, release(ctx.Err())
		case <-s.closing:
			return nil, release(ErrClosed)
		default:
		}
		err := statusError("nnrp_server_accept_wait", C.nf_call_server_accept_wait(api, C.nf_accept_wait_req{accept: ticket, timeout_ms: timeoutMs(acceptPoll)}))
		if err == nil {
			break
		}
		if !isStatus(err, StatusWouldBlock) {
			return nil, release(err)
		}
	}
	var res C.nf_accept_result
	creq := C.nf_accept_claim_req{accept: ticket, session_handle_id: C.uint64_t(newID()), generation: generation}
	if err := statusError("nnrp_server_accept_claim", C.nf_call_server_accept_claim(api, creq, &res)); err != nil {
		return nil, release(err)
	}
	// The claim consumed the ticket and produced the session handle: the
	// number of native handles is unchanged.
	sess := &ServerSession{srv: s, h: res.session, transport: Transport(res.active_transport_id), sessionHandle: sessionHandle{native: true}, ops: map[uint32]uint64{}}
	var id C.uint32_t
	idErr := statusError("nnrp_session_id", C.nf_call_session_id(api, res.session, &id))
	sess.id = uint32(id)
	// Close cannot have run yet: it waits for acceptMu.
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	if idErr != nil {
		return nil, errors.Join(idErr, sess.Close())
	}
	return sess, nil
}

// Close stops the server: a pending Accept returns ErrClosed, open sessions
// are dropped (their handles become invalid) and the listener closes
// (nnrp_connection_close on the server handle). It returns ErrClosed when
// called again.
func (s *Server) Close() error {
	first := false
	s.closeOnce.Do(func() { first = true; close(s.closing) })
	if !first {
		return ErrClosed
	}
	s.acceptMu.Lock() // waits for a pending Accept to release its ticket
	defer s.acceptMu.Unlock()
	s.mu.Lock()
	s.closed = true
	sessions := s.sessions
	s.sessions = nil
	s.mu.Unlock()
	for sess := range sessions {
		sess.invalidate(&s.lib.live)
	}
	if err := statusError("nnrp_connection_close", C.nf_call_connection_close(s.lib.api, s.h)); err != nil {
		return err
	}
	s.lib.live.Add(-1)
	return nil
}

// ServerSession is a session accepted by an official server.
type ServerSession struct {
	srv       *Server
	h         C.nf_handle
	id        uint32
	transport Transport

	sessionHandle

	opsMu sync.Mutex
	ops   map[uint32]uint64 // frame id -> operation id of frames without a terminal yet
}

// ID is the wire session id.
func (s *ServerSession) ID() uint32 { return s.id }

// Transport is the carrier the session arrived on.
func (s *ServerSession) Transport() Transport { return s.transport }

// Pending is the number of received frames this binding has not yet sent a
// terminal (result or drop) for.
func (s *ServerSession) Pending() int {
	s.opsMu.Lock()
	defer s.opsMu.Unlock()
	return len(s.ops)
}

// Await waits up to timeout (at least 1 ms) for events of this session
// (nnrp_server_await_events) and returns up to maxEvents of them; no events
// and a nil error when the timeout passes. A FRAME_SUBMIT arrives as an event
// with Submit and Op set; FRAME_CANCEL as EventControl with Op set; the
// client's SESSION_CLOSE as EventSessionClosed, after which the session must
// be closed with Close (which sends SESSION_CLOSE_ACK).
func (s *ServerSession) Await(timeout time.Duration, maxEvents int) ([]Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	raw, err := s.srv.lib.awaitEvents(true, s.h, timeout, maxEvents)
	events, err := decodeEvents(raw, err, true)
	s.opsMu.Lock()
	for i := range events {
		ev := &events[i]
		switch {
		case ev.Submit != nil:
			s.ops[ev.Header.FrameID] = ev.Submit.Meta.OperationID
		case ev.Op.Valid() && ev.Op.ID == 0:
			ev.Op.ID = s.ops[ev.Header.FrameID]
			ev.OperationID = ev.Op.ID
		}
	}
	s.opsMu.Unlock()
	return events, err
}

func (s *ServerSession) settle(op Operation) {
	s.opsMu.Lock()
	delete(s.ops, op.FrameID)
	s.opsMu.Unlock()
}

func checkOp(op Operation) error {
	if !op.Valid() || op.ID == 0 || op.FrameID == 0 {
		return errors.New("nnrp ffi: not an operation received by this server")
	}
	return nil
}

// SendResult sends the terminal RESULT_PUSH of op (nnrp_server_send_result):
// m encoded by wire (ResultPush.Append: the send-side rules R1–R4 and R7),
// then body. The library frames it with the session id and the op's frame
// id, and fails it if the operation is no longer live (cancelled, already
// answered, expired). Neither wire nor the library checks the class against
// the submit's budget policy (wire.ResultPush.CheckPolicy does, on request).
func (s *ServerSession) SendResult(op Operation, m *wire.ResultPush, body []byte) error {
	err := s.send(op, m, body, func(payload C.nf_bytes) C.nf_status {
		return C.nf_call_server_send_result(s.srv.lib.api, C.nf_send_result_req{operation: op.h.c(), payload: payload})
	}, "nnrp_server_send_result")
	if err != nil {
		return err
	}
	s.settle(op)
	return nil
}

// SendDrop sends the terminal RESULT_DROP_REASON of op through
// nnrp_runtime_frame_send, with diagnostic as its body. d.OperationID 0 means
// op.ID; d.DiagnosticBytes is set from diagnostic. The ABI has no way to send
// a plain RESULT_DROP (no reason). The library keeps its operation handle
// for op until the session closes.
func (s *ServerSession) SendDrop(op Operation, d wire.ResultDropReason, diagnostic []byte) error {
	d.OperationID, d.DiagnosticBytes = orOp(d.OperationID, op), uint32(len(diagnostic))
	if err := s.sendFrame(op, &d, diagnostic); err != nil {
		return err
	}
	s.settle(op)
	return nil
}

// SendPartial sends a (non-terminal) PARTIAL_RESULT for op through
// nnrp_runtime_frame_send. p.OperationID 0 means op.ID; p.BodyBytes is set
// from body.
func (s *ServerSession) SendPartial(op Operation, p wire.PartialResult, body []byte) error {
	p.OperationID, p.BodyBytes = orOp(p.OperationID, op), uint32(len(body))
	return s.sendFrame(op, &p, body)
}

// SendProgress sends a (non-terminal) PROGRESS for op through
// nnrp_runtime_frame_send. p.OperationID 0 means op.ID; p.BodyBytes is set
// from body.
func (s *ServerSession) SendProgress(op Operation, p wire.Progress, body []byte) error {
	p.OperationID, p.BodyBytes = orOp(p.OperationID, op), uint32(len(body))
	return s.sendFrame(op, &p, body)
}

// orOp returns id, or op's id when id is 0.
func orOp(id uint64, op Operation) uint64 {
	if id == 0 {
		return op.ID
	}
	return id
}

func (s *ServerSession) sendFrame(op Operation, m wire.Message, body []byte) error {
	return s.send(op, m, body, func(payload C.nf_bytes) C.nf_status {
		req := C.nf_frame_send_req{handle: s.h, message_type: C.uint32_t(m.Type()), frame_id: C.uint32_t(op.FrameID), payload: payload}
		return C.nf_call_runtime_frame_send(s.srv.lib.api, req)
	}, "nnrp_runtime_frame_send")
}

// send checks op and body, encodes m and, while the session is open, calls
// the library through call with m's metadata followed by body in C memory;
// fn names the library function in errors.
func (s *ServerSession) send(op Operation, m wire.Message, body []byte, call func(payload C.nf_bytes) C.nf_status, fn string) error {
	if err := checkOp(op); err != nil {
		return err
	}
	if len(body) > math.MaxUint32 {
		return fmt.Errorf("nnrp ffi: body of %d bytes is too large", len(body))
	}
	var scratch [128]byte
	mb, err := appendMeta(scratch[:], m)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	buf := newCBuf(mb, body)
	defer buf.free()
	return statusError(fn, call(buf.view()))
}

// Close closes the session (nnrp_server_close): it sends SESSION_CLOSE_ACK if
// the client's SESSION_CLOSE was received, and leaves the connection to the
// client's other sessions. If it fails the session is still closed for this
// binding and its handle is reclaimed when the server closes. It returns
// ErrClosed when called again.
func (s *ServerSession) Close() error {
	err := s.close(&s.srv.lib.live, func() error {
		return statusError("nnrp_server_close", C.nf_call_server_close(s.srv.lib.api, s.h))
	})
	if err == nil {
		s.srv.mu.Lock()
		delete(s.srv.sessions, s)
		s.srv.mu.Unlock()
	}
	return err
}
