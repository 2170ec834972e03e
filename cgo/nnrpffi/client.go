package nnrpffi

/*
#include <stdlib.h>
#include "nnrpffi_abi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ClientTLS configures a TLS (TCP) or QUIC client: the library trusts exactly
// RootCertDER and checks ServerName against the server certificate's
// subjectAltName. It offers no ALPN.
type ClientTLS struct {
	ServerName  string
	RootCertDER []byte
}

// DialOptions configures Lib.Dial.
type DialOptions struct {
	// Endpoint is "tcp://host:port" (plain, or TLS when TLS is set) or
	// "quic://host:port" (TLS required).
	Endpoint string
	TLS      *ClientTLS
	// MaxPacketBytes limits one packet (header + metadata + body); 0 means
	// the library's 64 MiB.
	MaxPacketBytes uint64
	// ConnectTimeout bounds the carrier connect and handshake; 0 means the
	// library's fixed 30 s.
	ConnectTimeout time.Duration
}

// ClientConn is an official-client connection. The NNRP handshake happens on
// the first OpenSession.
type ClientConn struct {
	lib       *Lib
	h         C.nf_handle
	transport Transport

	mu       sync.Mutex
	closed   bool
	sessions map[*ClientSession]struct{}
}

// Dial connects the official client to an NNRP server:
// nnrp_transport_client_security_config_create (TLS only),
// nnrp_transport_connect, nnrp_client_connect (which consumes the transport
// connection); the security config is closed once connected.
func (l *Lib) Dial(o DialOptions) (*ClientConn, error) {
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
	timeout, err := durationMs("connect timeout", o.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	var config C.nf_handle // all-zero: plain TCP
	if o.TLS != nil {
		if config, err = l.clientSecurityConfig(t, o.TLS); err != nil {
			return nil, err
		}
	}
	tc, err := l.openTransport(openConnect, t, o.Endpoint, config, o.MaxPacketBytes, timeout)
	if err != nil {
		return nil, err
	}

	creq := C.nf_client_connect_req{connection_id: C.uint64_t(newID()), generation: generation, transport: tc}
	var ch C.nf_handle
	if err := statusError("nnrp_client_connect", C.nf_call_client_connect(l.api, creq, &ch)); err != nil {
		return nil, errors.Join(err, l.closeTransportObject(tc))
	}
	// The transport connection now belongs to the client connection.
	return &ClientConn{lib: l, h: ch, transport: t, sessions: map[*ClientSession]struct{}{}}, nil
}

// Transport is the carrier of the connection.
func (c *ClientConn) Transport() Transport { return c.transport }

// SessionOptions configures a SESSION_OPEN. Everything the ABI lets a client
// put into SESSION_OPEN is here; flags other than allow_resume, the auth and
// extension blocks are not expressible.
type SessionOptions struct {
	Profile            wire.ProfileID // wire.ProfileTensor or wire.ProfileToken
	SchemaID           uint32         // the official server accepts SchemaTokenDelta v3 only
	SchemaVersion      uint32
	MaxInFlight        uint16        // 0 means 4, the official client's default
	DefaultDeadline    time.Duration // whole milliseconds; 0 = none
	Priority           uint8         // 0 interactive, 1 balanced, 2 background
	RequestedSessionID uint32        // 0: the server assigns
	LeaseTTLHint       time.Duration // whole milliseconds; 0 = unspecified
}

// OpenSession opens a session (nnrp_client_open_session; the first call also
// runs CLIENT_HELLO / SERVER_HELLO_ACK). It blocks for up to the library's
// fixed 30 s. A rejected session is an *Error with StatusProtocolError,
// FamilySession and the server's session error code in ProtocolCode.
func (c *ClientConn) OpenSession(o SessionOptions) (*ClientSession, error) {
	deadline, err := durationMs("default deadline", o.DefaultDeadline)
	if err != nil {
		return nil, err
	}
	lease, err := durationMs("lease TTL hint", o.LeaseTTLHint)
	if err != nil {
		return nil, err
	}
	maxInFlight := o.MaxInFlight
	if maxInFlight == 0 {
		maxInFlight = 4
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	req := C.nf_session_open_req{
		connection:           c.h,
		requested_session_id: C.uint32_t(o.RequestedSessionID),
		session_handle_id:    C.uint64_t(newID()),
		generation:           generation,
		profile_id:           C.uint16_t(o.Profile),
		priority_class:       C.uint8_t(o.Priority),
		schema_id:            C.uint32_t(o.SchemaID),
		schema_version:       C.uint32_t(o.SchemaVersion),
		default_deadline_ms:  deadline,
		max_in_flight:        C.uint16_t(maxInFlight),
		lease_ttl_hint_ms:    lease,
	}
	var sh C.nf_handle
	if err := statusError("nnrp_client_open_session", C.nf_call_client_open_session(c.lib.api, req, &sh)); err != nil {
		return nil, err
	}
	c.lib.live.Add(1)
	var id C.uint32_t
	if err := statusError("nnrp_session_id", C.nf_call_session_id(c.lib.api, sh, &id)); err != nil {
		// The handle is valid but unusable here; close it (or let the
		// connection's close reclaim it).
		if cerr := statusError("nnrp_client_close", C.nf_call_client_close(c.lib.api, sh)); cerr == nil {
			c.lib.live.Add(-1)
			return nil, err
		}
		s := &ClientSession{conn: c, h: sh, sessionHandle: sessionHandle{closed: true, native: true}}
		c.sessions[s] = struct{}{}
		return nil, err
	}
	s := &ClientSession{conn: c, h: sh, id: uint32(id), sessionHandle: sessionHandle{native: true}}
	c.sessions[s] = struct{}{}
	return s, nil
}

// Close closes the connection (nnrp_client_close_connection). Sessions still
// open are dropped without SESSION_CLOSE and their handles become invalid.
// It returns ErrClosed when called again.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	sessions := c.sessions
	c.sessions = nil
	c.mu.Unlock()

	for s := range sessions {
		s.invalidate(&c.lib.live)
	}
	if err := statusError("nnrp_client_close_connection", C.nf_call_client_close_connection(c.lib.api, c.h)); err != nil {
		return err
	}
	c.lib.live.Add(-1)
	return nil
}

// ClientSession is an open client session.
type ClientSession struct {
	conn *ClientConn
	h    C.nf_handle
	id   uint32

	sessionHandle

	submitMu  sync.Mutex
	lastFrame uint32
}

// ID is the wire session id the server assigned.
func (s *ClientSession) ID() uint32 { return s.id }

// SubmitRequest is one FRAME_SUBMIT. The ABI lets the client choose every
// metadata byte, the frame id, the header flags, view id, route id and trace
// id, and the body; the library builds the header (session id, lengths).
type SubmitRequest struct {
	// FrameID must be non-zero and larger than every earlier frame id of the
	// session; 0 means the next one after the last submitted frame.
	FrameID uint32
	// Metadata is encoded with wire (FrameSubmit.Append validates it, as the
	// library does again). Metadata.OperationID 0 means: use the frame id
	// (unique per session). TensorRequest fills Metadata and Body from a
	// wire.SubmitBuilder.
	Metadata    wire.FrameSubmit
	Body        []byte
	HeaderFlags wire.Flags
	ViewID      uint16
	RouteID     uint16
	TraceID     uint64
}

// Frame names a submitted frame.
type Frame struct {
	FrameID     uint32
	OperationID uint64
}

// Submit writes one FRAME_SUBMIT (nnrp_client_submit). The library copies the
// payload before returning and does not wait for credits: the caller keeps
// its own window.
func (s *ClientSession) Submit(r *SubmitRequest) (Frame, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Frame{}, ErrClosed
	}
	if len(r.Body) > math.MaxUint32 {
		return Frame{}, fmt.Errorf("nnrp ffi: body of %d bytes is too large", len(r.Body))
	}
	s.submitMu.Lock()
	defer s.submitMu.Unlock()
	frame := r.FrameID
	if frame == 0 {
		if s.lastFrame == math.MaxUint32 {
			return Frame{}, errors.New("nnrp ffi: frame ids exhausted")
		}
		frame = s.lastFrame + 1
	}
	meta := r.Metadata
	if meta.OperationID == 0 {
		meta.OperationID = uint64(frame)
	}
	var scratch [128]byte
	mb, err := appendMeta(scratch[:], &meta)
	if err != nil {
		return Frame{}, err
	}
	buf := newCBuf(mb, r.Body)
	defer buf.free()
	req := C.nf_submit_req{
		session:      s.h,
		operation_id: C.uint64_t(meta.OperationID),
		frame_id:     C.uint32_t(frame),
		header_flags: C.uint32_t(r.HeaderFlags),
		view_id:      C.uint16_t(r.ViewID),
		route_id:     C.uint16_t(r.RouteID),
		trace_id:     C.uint64_t(r.TraceID),
		payload:      buf.view(),
	}
	// The operation handle the library returns is removed by the library
	// itself when the frame's terminal event is polled.
	var op C.nf_handle
	if err := statusError("nnrp_client_submit", C.nf_call_client_submit(s.conn.lib.api, req, &op)); err != nil {
		return Frame{}, err
	}
	s.lastFrame = max(s.lastFrame, frame)
	return Frame{FrameID: frame, OperationID: meta.OperationID}, nil
}

// Cancel sends FRAME_CANCEL for a frame (nnrp_client_cancel). The frame stays
// pending until the server's terminal result or drop arrives.
func (s *ClientSession) Cancel(frameID uint32) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return statusError("nnrp_client_cancel", C.nf_call_client_cancel(s.conn.lib.api, C.nf_cancel_req{session: s.h, frame_id: C.uint32_t(frameID)}))
}

// Await waits up to timeout (at least 1 ms) for events of this session and
// returns up to maxEvents of them (nnrp_client_await_events with the session
// as scope). It returns no events and a nil error when the timeout passes.
// After the first event the library waits 1 ms for each further one, so
// maxEvents 1 gives the lowest latency. Events returned together with an
// error arrived before the failure and are valid.
func (s *ClientSession) Await(timeout time.Duration, maxEvents int) ([]Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	raw, err := s.conn.lib.awaitEvents(false, s.h, timeout, maxEvents)
	return decodeEvents(raw, err, false)
}

func decodeEvents(raw []rawEvent, err error, server bool) ([]Event, error) {
	if len(raw) == 0 {
		return nil, err
	}
	events := make([]Event, len(raw))
	errs := []error{err}
	for i, r := range raw {
		var derr error
		events[i], derr = decodeEvent(r, server)
		errs = append(errs, derr)
	}
	return events, errors.Join(errs...)
}

// Close closes the session (nnrp_client_close): SESSION_CLOSE, then it waits
// for SESSION_CLOSE_ACK for up to the library's fixed 30 s. If that fails the
// session is still closed for this binding and its native handle is reclaimed
// when the connection closes. It returns ErrClosed when called again.
func (s *ClientSession) Close() error {
	err := s.close(&s.conn.lib.live, func() error {
		return statusError("nnrp_client_close", C.nf_call_client_close(s.conn.lib.api, s.h))
	})
	if err == nil {
		s.conn.mu.Lock()
		delete(s.conn.sessions, s)
		s.conn.mu.Unlock()
	}
	return err
}

// sessionIDOf asks the library for the wire id of a session handle; tests use
// it to show that a closed handle is gone from the library.
func (l *Lib) sessionIDOf(h C.nf_handle) (uint32, error) {
	var id C.uint32_t
	err := statusError("nnrp_session_id", C.nf_call_session_id(l.api, h, &id))
	return uint32(id), err
}
