package server

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/link"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Tunables of one connection.
const (
	// inboundQueue is how many decoded packets the reader may run ahead of
	// the owner; when full the reader blocks (TCP/QUIC flow control then
	// pushes back on the client).
	inboundQueue = 32
	// commandQueue bounds application requests waiting for the owner.
	commandQueue = 256
)

// ErrConnClosed is returned by Session methods once the connection is gone.
var ErrConnClosed = errors.New("server: connection closed")

type connState uint8

const (
	awaitHello connState = iota
	established
	closingConn
)

// inbound is one packet from the reader, decoded as far as the reader can
// without session state.
type inbound struct {
	pkt link.Packet
	sub *Submit // FRAME_SUBMIT: metadata decoded, view decoded unless subErr
	// metaErr: the FRAME_SUBMIT metadata is invalid (no operation can be
	// created); subErr: the body is invalid (the operation is dropped).
	metaErr, subErr error
	err             error // read error: the connection ends
}

type cmdKind uint8

const (
	cmdTerminal cmdKind = iota
	cmdPacket
	cmdCloseSession
)

// command is an application request executed by the owner.
type command struct {
	kind    cmdKind
	sess    *Session
	frameID uint32 // frame the packet concerns; 0 for session-level packets
	segs    [][]byte
	// Terminals only: result (isResult) is checked against the frame's
	// budget policy before it is sent; the terminal is counted by class or
	// drop reason; builder goes back to its pool once written.
	isResult bool
	result   wire.ResultPush
	drop     wire.DropReason
	builder  *wire.ResultBuilder
	// done is called exactly once with the outcome: the owner's refusal,
	// or the write's result once the packet left (or failed to).
	done func(error)
}

type conn struct {
	srv *Server
	c   carrier.Conn
	log *slog.Logger
	w   *link.Writer

	in       chan inbound
	cmds     chan command
	cmdMu    sync.RWMutex  // held (read) while posting to cmds
	cmdShut  bool          // set under cmdMu (write): cmds takes no more
	stopping chan struct{} // closed when teardown starts
	quit     chan error    // shutdown/abort requests
	finished chan struct{} // closed when run has fully ended
	ctx      context.Context
	cancel   context.CancelCauseFunc

	// Owner state.
	state        connState
	hello        *ClientHelloContext
	identity     Identity
	sessions     map[uint32]*Session
	timers       timerHeap
	timer        *time.Timer
	timerAt      time.Time
	lastInbound  time.Time
	inFlight     int
	shuttingDown bool
	readerDone   chan struct{}
	closeOnce    sync.Once
}

func newConn(s *Server, c carrier.Conn) *conn {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &conn{
		srv: s, c: c,
		log:      s.log.With("carrier", c.Kind().String(), "remote", c.RemoteAddr()),
		in:       make(chan inbound, inboundQueue),
		cmds:     make(chan command, commandQueue),
		quit:     make(chan error, 1),
		finished: make(chan struct{}),
		stopping: make(chan struct{}),
		ctx:      ctx, cancel: cancel,
		sessions:   map[uint32]*Session{},
		readerDone: make(chan struct{}),
	}
}

// shutdown asks the owner to finish gracefully: frames still in flight are
// dropped (transport_closed), queued output is flushed, the carrier closed.
func (c *conn) shutdown() {
	select {
	case c.quit <- ErrShuttingDown:
	default:
	}
}

// abort closes the connection at once.
func (c *conn) abort(cause error) {
	c.cancel(cause)
	c.closeCarrier()
}

func (c *conn) closeCarrier() { c.closeOnce.Do(func() { _ = c.c.Close() }) }

// run is the owner goroutine.
func (c *conn) run() {
	defer close(c.finished)
	hsCtx, cancel := context.WithTimeout(c.ctx, c.srv.profile.HandshakeTimeout)
	err := c.c.Handshake(hsCtx)
	cancel()
	if err != nil {
		c.srv.stats.HandshakeFailures.Add(1)
		c.log.Debug("nnrp carrier handshake failed", "err", err)
		c.closeCarrier()
		return
	}
	c.w = link.NewWriter(c.c, c.srv.profile.WriteStallTimeout)
	go c.readLoop()
	c.timer = time.NewTimer(c.srv.profile.HandshakeTimeout)
	c.timerAt = time.Now().Add(c.srv.profile.HandshakeTimeout)
	c.lastInbound = time.Now()
	cause := c.loop()
	c.teardown(cause)
}

func (c *conn) loop() error {
	for {
		select {
		case it := <-c.in:
			if it.err != nil {
				var he *wire.HeaderError
				if errors.As(it.err, &he) {
					// The stream cannot be resynchronised: tell the peer why.
					return c.fatal(he.Code, he.Error())
				}
				return it.err
			}
			c.lastInbound = time.Now()
			if err := c.handle(it); err != nil {
				return err
			}
		case cmd := <-c.cmds:
			c.execute(cmd)
		case <-c.timer.C:
			c.timerAt = time.Time{}
			if err := c.onTimer(time.Now()); err != nil {
				return err
			}
		case <-c.w.Stopped():
			if err := c.w.Err(); errors.Is(err, link.ErrWriteStalled) {
				c.srv.stats.SlowConsumers.Add(1)
				c.log.Warn("nnrp client stopped reading; closing its connection", "err", err)
				return err
			}
			return fmt.Errorf("server: write failed: %w", c.w.Err())
		case cause := <-c.quit:
			if c.state == awaitHello {
				return cause
			}
			c.shuttingDown = true
			c.dropAll(wire.DropTransportClosed, ErrShuttingDown, "server shutting down")
			return cause
		case <-c.ctx.Done():
			return context.Cause(c.ctx)
		}
		if c.state == closingConn {
			return io.EOF
		}
	}
}

// readLoop frames packets and decodes FRAME_SUBMITs off the owner
// goroutine. It pauses while the connection's outbound backlog is over the
// limit, which throttles a client that sends without reading.
func (c *conn) readLoop() {
	defer close(c.readerDone)
	r := link.NewReader(c.c, &c.srv.pool, c.srv.profile.maxPacket())
	lim := wire.Limits{MaxSections: c.srv.profile.MaxSections, MaxBodyBytes: int(c.srv.profile.MaxBodyBytes)}
	for {
		if err := c.w.WaitBelow(c.ctx, c.srv.profile.MaxOutboundBytes); err != nil {
			c.deliver(inbound{err: err})
			return
		}
		p, err := r.Next()
		if err != nil {
			c.deliver(inbound{err: err})
			return
		}
		c.srv.stats.BytesReceived.Add(int64(len(p.Buf.B)))
		it := inbound{pkt: p}
		if p.P.Header.Type == wire.TypeFrameSubmit {
			it.sub, it.metaErr, it.subErr = decodeSubmit(&p, lim)
		}
		if !c.deliver(it) {
			p.Buf.Release()
			return
		}
	}
}

func (c *conn) deliver(it inbound) bool {
	select {
	case c.in <- it:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// decodeSubmit decodes a FRAME_SUBMIT's metadata and tensor view. A
// failure in the metadata (no valid operation_id) is metaErr; a failure in
// the body leaves the metadata valid (SubmitView.Decode's contract) and is
// subErr.
func decodeSubmit(p *link.Packet, lim wire.Limits) (sub *Submit, metaErr, subErr error) {
	sub = &Submit{Header: p.P.Header, Body: p.P.Body, Arrived: time.Now(), buf: p.Buf}
	err := sub.View.Decode(&p.P, lim)
	sub.Meta = sub.View.Meta
	switch {
	case err == nil:
		sub.HasView = true
		return sub, nil, nil
	case sub.Meta.OperationID == 0:
		return nil, err, nil
	default:
		return sub, nil, err
	}
}

// teardown ends the connection: sessions end, operations are released, the
// writer flushes what it can, goroutines are waited for.
func (c *conn) teardown(cause error) {
	if cause == nil {
		cause = ErrConnClosed
	}
	graceful := errors.Is(cause, io.EOF) || errors.Is(cause, ErrShuttingDown)
	for id, s := range c.sessions {
		c.endSession(s, ErrSessionClosed, true)
		delete(c.sessions, id)
	}
	if graceful && c.w != nil {
		_ = c.w.Close()
	}
	c.cancel(cause)
	c.closeCarrier()
	if c.w != nil {
		c.w.Abort(ErrConnClosed)
		<-c.readerDone
	}
	// Drain what the reader delivered but nobody handled.
	for {
		select {
		case it := <-c.in:
			if it.pkt.Buf != nil {
				it.pkt.Buf.Release()
			}
			continue
		default:
		}
		break
	}
	// Fail application commands that will never run. After cmdShut is set
	// no one can post, so every queued command is seen here.
	close(c.stopping)
	c.cmdMu.Lock()
	c.cmdShut = true
	c.cmdMu.Unlock()
	for {
		select {
		case cmd := <-c.cmds:
			cmd.done(ErrConnClosed)
			continue
		default:
		}
		break
	}
	if !graceful && !errors.Is(cause, ErrServerClosed) {
		c.log.Debug("nnrp connection ended", "cause", cause)
	}
}

// post hands an application request to the owner. On success cmd.done
// will be called exactly once; on error it is not called. ctx bounds only
// the wait for a place in the owner's queue.
func (c *conn) post(ctx context.Context, cmd command) error {
	c.cmdMu.RLock()
	defer c.cmdMu.RUnlock()
	if c.cmdShut {
		return ErrConnClosed
	}
	select {
	case c.cmds <- cmd:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-c.stopping:
		return ErrConnClosed
	}
}

// call posts cmd and waits for its outcome (for packets: until written).
// Once posted, a packet's segments may be in use by the writer, so call
// waits for the write whatever ctx does.
func (c *conn) call(ctx context.Context, cmd command) error {
	reply := make(chan error, 1)
	cmd.done = func(err error) { reply <- err }
	if err := c.post(ctx, cmd); err != nil {
		return err
	}
	return <-reply
}

// handle processes one inbound packet on the owner goroutine. A non-nil
// error ends the connection.
func (c *conn) handle(it inbound) error {
	p := &it.pkt.P
	h := &p.Header
	keep := false // whether the packet's buffer now belongs to a Submit
	defer func() {
		if !keep {
			it.pkt.Buf.Release()
		}
	}()
	if c.state == awaitHello {
		return c.handleHandshake(p)
	}
	if h.SessionID == 0 {
		return c.handleConnectionPacket(p)
	}
	s, ok := c.sessions[h.SessionID]
	if !ok {
		c.sendError(wire.CodeInvalidState, wire.ScopeSession, false, h.SessionID, h.FrameID,
			fmt.Sprintf("unknown session %d on this connection", h.SessionID))
		return nil
	}
	if h.Type == wire.TypeFrameSubmit {
		keep = c.handleSubmit(s, it)
		return nil
	}
	c.handleSessionPacket(s, p)
	return nil
}

// send queues a complete packet the owner built.
func (c *conn) send(b []byte) {
	_ = c.w.Enqueue(link.Outbound{Segs: [][]byte{b}})
}

// sendError queues an ERROR (C§5.2). Fatal errors are followed by closing
// the connection, which the caller arranges.
func (c *conn) sendError(code wire.ErrorCode, scope wire.ErrorScope, fatal bool, sessionID, frameID uint32, diag string) {
	if len(diag) > 1024 {
		diag = diag[:1024]
	}
	b, err := errorPacket(code, scope, fatal, sessionID, frameID, diag)
	if err != nil {
		c.log.Error("nnrp: building ERROR failed", "err", err)
		return
	}
	c.srv.stats.countError(code)
	c.send(b)
}

// fatal sends a fatal connection-scope ERROR and returns the error that
// ends the connection (queued output is flushed first).
func (c *conn) fatal(code wire.ErrorCode, diag string) error {
	c.sendError(code, wire.ScopeConnection, true, 0, 0, diag)
	c.state = closingConn
	return fmt.Errorf("%w: %s: %s", io.EOF, code, diag)
}

// protocolError converts a decode error into the ERROR to send.
func protocolError(err error) (wire.ErrorCode, string) {
	code, ok := wire.CodeOf(err)
	if !ok {
		code = wire.CodeMalformedBody
	}
	return code, err.Error()
}

// timerEntry is a pending deadline check: one per operation with a
// deadline (op set), or a session's drained SESSION_CLOSE (op nil). Entries
// are removed as soon as they are moot, so the heap holds at most one entry
// per operation in flight.
type timerEntry struct {
	at   time.Time
	sess *Session
	op   *op
	pos  int // 1 + index in the heap; 0 when not in it (the zero value)
}

// timerHeap orders pending deadline checks (earliest first).
type timerHeap []*timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i+1, j+1
}
func (h *timerHeap) Push(x any) {
	e := x.(*timerEntry)
	*h = append(*h, e)
	e.pos = len(*h)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.pos = 0
	return e
}

// setTimer places e at time t (adding it if needed) and arms the timer.
func (c *conn) setTimer(e *timerEntry, t time.Time) {
	e.at = t
	if e.pos > 0 {
		heap.Fix(&c.timers, e.pos-1)
	} else {
		heap.Push(&c.timers, e)
	}
	c.armTimer(t)
}

// clearTimer removes e from the heap if it is in it.
func (c *conn) clearTimer(e *timerEntry) {
	if e.pos > 0 {
		heap.Remove(&c.timers, e.pos-1)
	}
}

func (c *conn) armTimer(t time.Time) {
	if !c.timerAt.IsZero() && !t.Before(c.timerAt) {
		return
	}
	c.timer.Stop()
	select {
	case <-c.timer.C:
	default:
	}
	d := time.Until(t)
	if d < 0 {
		d = 0
	}
	c.timer.Reset(d)
	c.timerAt = t
}

// onTimer runs due deadline checks, the handshake timeout and the idle
// timeout, then re-arms the timer.
func (c *conn) onTimer(now time.Time) error {
	if c.state == awaitHello {
		c.srv.stats.HandshakeFailures.Add(1)
		return c.fatal(wire.CodeInvalidState, "no CLIENT_HELLO within the handshake timeout")
	}
	for c.timers.Len() > 0 && !c.timers[0].at.After(now) {
		e := heap.Pop(&c.timers).(*timerEntry)
		if e.op == nil {
			c.checkClose(e.sess, now)
		} else if !c.checkDeadline(e.sess, e.op, now) {
			c.armDeadlines(e.sess, e.op) // a later deadline remains
		}
	}
	if c.timers.Len() > 0 {
		c.armTimer(c.timers[0].at)
	}
	if idle := c.srv.profile.IdleTimeout; idle > 0 {
		if c.inFlight == 0 && now.Sub(c.lastInbound) >= idle {
			c.log.Debug("nnrp connection idle; closing", "idle", idle)
			c.state = closingConn
			return io.EOF
		}
		next := c.lastInbound.Add(idle)
		if !next.After(now) {
			next = now.Add(idle) // busy: look again one idle period from now
		}
		c.armTimer(next)
	}
	return nil
}
