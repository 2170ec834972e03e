package server

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ClientHelloContext is what a client said in its CLIENT_HELLO, with the
// connection it came on.
type ClientHelloContext struct {
	Hello wire.ClientHello
	// Auth is the hello's auth block (opaque bytes).
	Auth []byte
	// Extensions is the hello's control-extension block.
	Extensions wire.ControlExtensions
	Carrier    carrier.Kind
	RemoteAddr net.Addr
	// ALPN is the negotiated application protocol ("" when the client
	// offered none, as the official runtime does).
	ALPN string
}

// SessionInfo describes an open session. It does not change after the open
// except for the model binding (Session.Model).
type SessionInfo struct {
	ID            uint32
	Profile       wire.ProfileID
	SchemaID      uint32
	SchemaVersion uint32
	Priority      wire.PriorityClass
	Flags         wire.SessionFlags
	// DefaultDeadline is the session's default latency budget
	// (default_deadline_ms; 0 = none).
	DefaultDeadline time.Duration
	// MaxInFlight is the granted concurrent-operation limit.
	MaxInFlight uint16
	Resumed     bool
	Identity    Identity
	Hello       *ClientHelloContext
	// RouteID is the header route_id of the SESSION_OPEN.
	RouteID uint16
	// Extensions is the SESSION_OPEN session extension block.
	Extensions wire.ControlExtensions
}

// SessionRequest is what a SessionPolicy decides on.
type SessionRequest struct {
	Open wire.SessionOpen
	Info SessionInfo
}

// SessionDecision is a SessionPolicy's answer. A non-zero Reject refuses the
// session with that session error code (0x0001xxxx) and Diagnostic as the
// ack's UTF-8 extension text.
type SessionDecision struct {
	Reject     wire.ErrorCode
	Diagnostic string
	// Model is the model the session is bound to (its active_model_name).
	Model string
}

// SessionPolicy admits sessions and binds them to a model. It runs on the
// connection's owner goroutine: it must be quick and must not block.
type SessionPolicy func(req *SessionRequest) SessionDecision

// PatchRequest is a SESSION_PATCH for a PatchPolicy.
type PatchRequest struct {
	Session *Session
	Patch   wire.SessionPatch
	// Body is the profile patch block (patch_mask bit profile_patch).
	Body    []byte
	RouteID uint16
}

// PatchDecision tells the engine what to acknowledge. Applied and Rejected
// must partition the request's mask; Model, if non-empty, becomes the
// session's model.
type PatchDecision struct {
	Applied, Rejected wire.PatchMask
	Reason            wire.PatchRejectReason
	Model             string
}

// PatchPolicy handles SESSION_PATCH; like SessionPolicy it runs on the
// owner goroutine and must not block.
type PatchPolicy func(req *PatchRequest) PatchDecision

// Session is one NNRP session. Its methods are safe for concurrent use.
type Session struct {
	info   SessionInfo
	conn   *conn
	model  atomic.Pointer[string]
	queue  chan *Submit // admitted frames not yet received; capacity MaxInFlight
	ctx    context.Context
	cancel context.CancelCauseFunc

	// Owner-goroutine state.
	state        sessionState
	ops          map[uint32]*op // live operations by frame id
	opFrames     map[uint64]uint32
	seenFrames   recentSet[uint32]
	seenOps      recentSet[uint64]
	reservations map[uint64]reservation
	closeReq     *pendingClose
	closeTimer   timerEntry
	cache        *objectCache
	resumeToken  []byte
}

type sessionState uint8

const (
	sessionOpen sessionState = iota
	sessionClosing
	sessionTombstone // closed by the server; answers further frames with drops
)

// Info returns the session's description.
func (s *Session) Info() SessionInfo { return s.info }

// ID returns the session id.
func (s *Session) ID() uint32 { return s.info.ID }

// Model returns the model the session is bound to ("" if none).
func (s *Session) Model() string {
	if m := s.model.Load(); m != nil {
		return *m
	}
	return ""
}

// SetModel rebinds the session to another model for frames received from
// now on.
func (s *Session) SetModel(name string) { s.model.Store(&name) }

// Context is cancelled when the session ends; context.Cause tells why.
func (s *Session) Context() context.Context { return s.ctx }

// ReceiveSubmit returns the next admitted frame. The frame stays in flight
// until it is answered (SendResult, SendResultDrop) or the engine answers it
// (cancel, deadline, shutdown); its Context reports the latter.
func (s *Session) ReceiveSubmit(ctx context.Context) (*Submit, error) {
	for {
		select {
		case sub := <-s.queue:
			if sub.ended() {
				continue // answered by the engine before anyone received it
			}
			return sub, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-s.ctx.Done():
			return nil, context.Cause(s.ctx)
		}
	}
}

// Close ends the session from the server side: frames in flight are dropped
// with transport_closed; frames the client sends afterwards are dropped the
// same way until it closes the session or the connection. (The reference
// client cannot receive a server-initiated SESSION_CLOSE, so none is sent.)
func (s *Session) Close(ctx context.Context) error {
	return s.conn.call(ctx, command{kind: cmdCloseSession, sess: s})
}

// reservation is a DEADLINE or EXPIRE_AT received before its FRAME_SUBMIT
// (C§7.3, required by the wire suite).
type reservation struct {
	frameID  uint32
	deadline time.Time
	expireAt time.Time
	flags    wire.SchedulingFlags
	received time.Time
}

// maxReservations bounds pre-submit scheduling messages kept per session.
const maxReservations = 64

type pendingClose struct {
	req   wire.SessionClose
	until time.Time
}

// recentSet remembers the last recentSetSize values for duplicate detection
// with bounded memory: frame and operation ids are never reused within a
// session (D§2), and a reuse within this horizon is rejected.
type recentSet[T comparable] struct {
	ring []T // grows to recentSetSize, then wraps
	n    int
	set  map[T]struct{}
}

const recentSetSize = 2048

func (r *recentSet[T]) has(v T) bool {
	_, ok := r.set[v]
	return ok
}

func (r *recentSet[T]) add(v T) {
	if r.set == nil {
		r.set = make(map[T]struct{}, 64)
	}
	if len(r.ring) < recentSetSize {
		r.ring = append(r.ring, v)
	} else {
		i := r.n % recentSetSize
		delete(r.set, r.ring[i])
		r.ring[i] = v
	}
	r.set[v] = struct{}{}
	r.n++
}
