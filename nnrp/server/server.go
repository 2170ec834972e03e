// Package server is the NNRP/1 server engine: handshake, multiplexed
// sessions, the operation table that guarantees exactly one terminal answer
// per FRAME_SUBMIT, flow control and the preview4 runtime-control messages,
// over any carrier of package carrier.
//
// Each connection has one reader goroutine (framing and decoding, including
// the zero-copy tensor view), one batching writer goroutine and one owner
// goroutine that alone mutates connection, session and operation state.
// Applications talk to the owner through Session methods.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Errors returned to applications.
var (
	// ErrServerClosed is returned by AcceptSession and Serve after Shutdown
	// or Close.
	ErrServerClosed = errors.New("server: closed")
	// ErrSessionClosed is the cause of a session's context when the client
	// closed it (SESSION_CLOSE) or its connection ended.
	ErrSessionClosed = errors.New("server: session closed")
	// ErrNotInFlight is returned when answering a frame that already has its
	// terminal answer (cancelled, expired, dropped, answered): the late
	// answer is discarded and counted.
	ErrNotInFlight = errors.New("server: frame is not in flight")
	// ErrCancelled is the cause of a submit's context when the client
	// cancelled the frame (CANCEL, ABORT, FRAME_CANCEL, SUPERSEDE).
	ErrCancelled = errors.New("server: frame cancelled by the client")
	// ErrExpired is the cause of a submit's context when the server answered
	// the frame itself because its deadline passed.
	ErrExpired = errors.New("server: frame deadline passed before an answer")
	// ErrShuttingDown is the cause of a submit's context when the server
	// dropped it while shutting down.
	ErrShuttingDown = errors.New("server: shutting down")
)

// Options configure a Server beyond its Profile.
type Options struct {
	// Auth validates each connection's CLIENT_HELLO; nil accepts everyone.
	Auth AuthValidator
	// OpenSession decides admission and the model binding of each new
	// session; nil admits every session the profile allows.
	OpenSession SessionPolicy
	// PatchSession handles SESSION_PATCH beyond what the engine applies
	// itself; nil rejects unsupported fields.
	PatchSession PatchPolicy
	// Logger receives connection-level events; nil uses slog.Default().
	Logger *slog.Logger
}

// Server accepts NNRP connections on any number of listeners and hands
// opened sessions to AcceptSession.
type Server struct {
	profile Profile
	opts    Options
	log     *slog.Logger
	pool    bufpool.Pool
	stats   Stats

	accepted chan *Session
	reg      registry

	mu        sync.Mutex
	listeners map[carrier.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool

	draining    chan struct{} // closed by Shutdown: no new work
	drainOnce   sync.Once
	inFlight    atomic.Int64  // operations in flight, server-wide
	idle        chan struct{} // signalled when inFlight drops to 0 while draining
	done        chan struct{} // closed by Close / end of Shutdown
	doneOnce    sync.Once
	connsWG     sync.WaitGroup
	listenersWG sync.WaitGroup
}

// New creates a server. The profile's zero fields take DefaultProfile's
// values.
func New(p Profile, opts Options) (*Server, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		profile:   p,
		opts:      opts,
		log:       log,
		accepted:  make(chan *Session, p.MaxAcceptQueue),
		listeners: map[carrier.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		draining:  make(chan struct{}),
		idle:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	s.reg.init()
	return s, nil
}

// Profile returns the effective profile.
func (s *Server) Profile() Profile { return s.profile }

// Stats returns the server's counters (live, read atomically).
func (s *Server) Stats() *Stats { return &s.stats }

// ReceiveBuffers reports the receive buffers currently held (by frames in
// flight and packets being processed) and their bytes.
func (s *Server) ReceiveBuffers() (buffers, bytes int64) { return s.pool.Outstanding() }

// Serve accepts connections on l until the server shuts down or l fails.
// It returns ErrServerClosed after Shutdown/Close.
func (s *Server) Serve(l carrier.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.listenersWG.Add(1)
	s.mu.Unlock()
	defer s.listenersWG.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		c, err := l.Accept(context.Background())
		if err != nil {
			select {
			case <-s.draining:
				return ErrServerClosed
			case <-s.done:
				return ErrServerClosed
			default:
			}
			if errors.Is(err, carrier.ErrClosed) {
				return ErrServerClosed
			}
			// Temporary failures (EMFILE, ...) must not end the listener.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("nnrp accept failed; retrying", "listener", l.Addr(), "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
				continue
			case <-s.done:
				t.Stop()
				return ErrServerClosed
			}
		}
		backoff = 0
		if !s.startConn(c) {
			_ = c.Close()
			return ErrServerClosed
		}
	}
}

func (s *Server) startConn(c carrier.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	select {
	case <-s.draining:
		return false
	default:
	}
	cn := newConn(s, c)
	s.conns[cn] = struct{}{}
	s.connsWG.Add(1)
	s.stats.ConnectionsOpened.Add(1)
	go func() {
		defer s.connsWG.Done()
		cn.run()
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
		s.stats.ConnectionsClosed.Add(1)
	}()
	return true
}

// AcceptSession returns the next opened session, from any connection.
func (s *Server) AcceptSession(ctx context.Context) (*Session, error) {
	select {
	case sess := <-s.accepted:
		return sess, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-s.done:
		return nil, ErrServerClosed
	}
}

// Shutdown stops the server gracefully: listeners close, new sessions are
// refused (retry_later) and new frames dropped (transport_closed,
// retryable); frames in flight keep their chance to be answered until ctx
// ends, after which the server drops them itself; then every connection is
// flushed and closed. It returns ctx's error if ctx ended first (the server
// is closed either way).
func (s *Server) Shutdown(ctx context.Context) error {
	s.drainOnce.Do(func() { close(s.draining) })
	s.closeListeners()
	var err error
	poll := time.NewTicker(50 * time.Millisecond) // idle is only a hint; re-check regularly
	for s.inFlight.Load() > 0 && err == nil {
		select {
		case <-s.idle:
		case <-poll.C:
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
	}
	poll.Stop()
	for _, c := range s.closeConns() {
		c.shutdown()
	}
	s.connsWG.Wait()
	s.listenersWG.Wait()
	s.doneOnce.Do(func() { close(s.done) })
	return err
}

// Close stops the server at once: listeners and connections close without
// answering frames in flight (their clients see the connection end).
func (s *Server) Close() error {
	s.drainOnce.Do(func() { close(s.draining) })
	s.closeListeners()
	for _, c := range s.closeConns() {
		c.abort(ErrServerClosed)
	}
	s.connsWG.Wait()
	s.listenersWG.Wait()
	s.doneOnce.Do(func() { close(s.done) })
	return nil
}

// closeConns marks the server closed (no new connections) and returns the
// live connections.
func (s *Server) closeConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	ls := make([]carrier.Listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	for _, l := range ls {
		_ = l.Close()
	}
}

func (s *Server) isDraining() bool {
	select {
	case <-s.draining:
		return true
	default:
		return false
	}
}

// opStarted and opEnded keep the server-wide in-flight count that Shutdown
// waits on.
func (s *Server) opStarted() { s.inFlight.Add(1) }

func (s *Server) opEnded() {
	if s.inFlight.Add(-1) == 0 && s.isDraining() {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// registry allocates session ids server-wide (C§4) and keeps detached
// resumable sessions for their resume window.
type registry struct {
	mu       sync.Mutex
	live     map[uint32]struct{}
	detached map[uint32]*resumeRecord
	next     uint32 // last id handed out by the counter
}

type resumeRecord struct {
	token   []byte
	expires time.Time
	info    SessionInfo
}

func (r *registry) init() {
	r.live = map[uint32]struct{}{}
	r.detached = map[uint32]*resumeRecord{}
}

// gc drops detached sessions whose window has passed. Caller holds mu.
func (r *registry) gc(now time.Time) {
	for id, rec := range r.detached {
		if now.After(rec.expires) {
			delete(r.detached, id)
		}
	}
}

// allocate reserves an id: the requested one if free, else the next id of
// an increasing counter that is neither live nor detached. The reference
// server reuses the smallest free id (C§4.4 step 2), but the official client
// refuses an id it has already seen on its connection, so a session opened
// after another was closed would fail; ids are therefore not reused until
// the counter wraps around.
func (r *registry) allocate(requested uint32) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gc(time.Now())
	free := func(id uint32) bool {
		_, live := r.live[id]
		_, detached := r.detached[id]
		return !live && !detached
	}
	if requested != 0 {
		if !free(requested) {
			return 0, false
		}
		r.live[requested] = struct{}{}
		return requested, true
	}
	if len(r.live)+len(r.detached) >= math.MaxUint32 {
		return 0, false
	}
	for {
		r.next++
		if r.next != 0 && free(r.next) {
			r.live[r.next] = struct{}{}
			return r.next, true
		}
	}
}

// resume reattaches a detached session if the token matches (constant time)
// and its window has not passed.
func (r *registry) resume(id uint32, token []byte) (SessionInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gc(time.Now())
	rec, ok := r.detached[id]
	if !ok || !constantTimeEqual(rec.token, token) {
		return SessionInfo{}, false
	}
	delete(r.detached, id)
	r.live[id] = struct{}{}
	return rec.info, true
}

// release frees a live id, or keeps it detached for resumption.
func (r *registry) release(id uint32, rec *resumeRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, id)
	if rec != nil {
		r.detached[id] = rec
	}
}

func constantTimeEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

func newToken(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("server: crypto/rand failed: %v", err))
	}
	return b
}

// sessionScopedError builds the non-fatal ERROR the server sends for a
// packet it rejects inside a session (C§4.6 recommendation).
func errorPacket(code wire.ErrorCode, scope wire.ErrorScope, fatal bool, sessionID, frameID uint32, diag string) ([]byte, error) {
	m := wire.ErrorMessage{Code: code, Scope: scope, RelatedSessionID: sessionID, RelatedFrameID: frameID,
		DiagnosticBytes: uint32(len(diag))}
	if fatal {
		m.Fatal = 1
	}
	return wire.AppendPacket(nil, wire.Header{SessionID: sessionID, FrameID: frameID}, &m, []byte(diag))
}
